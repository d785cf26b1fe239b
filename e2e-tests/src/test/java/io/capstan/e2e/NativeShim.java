package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A fault shim under src/test/c, compiled with gcc into target/faults for LD_PRELOAD into a broker process. */
final class NativeShim {
    private NativeShim() {}

    /** Compiles src/test/c/{name}.c into target/faults/lib{name}.so; its absolute path. */
    static Path compile(String name) throws Exception {
        Path out = Files.createDirectories(Path.of("target", "faults")).toAbsolutePath();
        Path library = out.resolve("lib" + name + ".so");
        Process gcc = new ProcessBuilder("gcc", "-shared", "-fPIC", "-O2", "-Wall", "-o", library.toString(),
                Path.of("src", "test", "c", name + ".c").toAbsolutePath().toString(), "-ldl", "-lpthread").inheritIO().start();
        assertThat(gcc.waitFor(120, TimeUnit.SECONDS)).as("gcc finished").isTrue();
        assertThat(gcc.exitValue()).as("gcc compiles the " + name + " shim (install gcc to run this test)").isZero();
        return library;
    }
}
