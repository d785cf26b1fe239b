package io.capstan.cluster.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalFileMetadataStoreTest extends MetadataStoreContract {
    @TempDir
    Path dir;

    @Override
    MetadataStore newStore() {
        return new LocalFileMetadataStore(dir, 20);
    }

    /** Separate JVMs on one directory: the file lock, not a Java lock, keeps their read-modify-writes apart. */
    @Test
    void processesSharingTheDirectoryLoseNoUpdate() throws Exception {
        store.create("counter", b("0"));
        List<Process> processes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            processes.add(new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), CounterProcess.class.getName(), dir.toString(), "40")
                    .inheritIO().start());
        }
        for (Process p : processes) {
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
        }
        assertThat(new String(store.get("counter").orElseThrow().value(), StandardCharsets.UTF_8)).isEqualTo("120");
    }

    /** Increments the shared counter N times from its own process. */
    public static final class CounterProcess {
        public static void main(String[] args) throws Exception {
            try (LocalFileMetadataStore s = new LocalFileMetadataStore(Path.of(args[0]), 1000)) {
                for (int i = 0; i < Integer.parseInt(args[1]); i++) {
                    CasRetry.update(s, "counter", old -> String.valueOf(Long.parseLong(new String(old, StandardCharsets.UTF_8)) + 1)
                            .getBytes(StandardCharsets.UTF_8));
                }
            }
        }
    }
}
