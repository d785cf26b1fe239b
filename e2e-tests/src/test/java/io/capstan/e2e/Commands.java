package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Other programs the interop tests drive (kcat, Python, Go, Kafka's tools): run to completion, output kept for the assertion message. */
final class Commands {
    private Commands() {}

    /** Runs the command, feeding {@code input}; fails the test unless it exits 0 within 5 minutes. Returns its output. */
    static String run(List<String> cmd, String input, Map<String, String> env, Path workDir) throws Exception {
        Path log = Files.createTempFile("command", ".log");
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(cmd)).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        try (var stdin = p.getOutputStream()) {
            stdin.write(input.getBytes(StandardCharsets.UTF_8));
        }
        boolean finished = p.waitFor(300, TimeUnit.SECONDS);
        String out = Files.readString(log, StandardCharsets.UTF_8);
        if (!finished) {
            p.destroyForcibly();
        }
        assertThat(finished).as("finished: " + cmd + "\n" + out).isTrue();
        assertThat(p.exitValue()).as("exit code of " + cmd + "\n" + out).isZero();
        return out;
    }

    /** What a program that may fail said: its exit code and its output (stdout and stderr together). */
    record Outcome(int exitCode, String output) {}

    /** Runs the command to completion (at most 5 minutes, else the test fails) whatever its exit code. */
    static Outcome outcome(List<String> cmd) throws Exception {
        Path log = Files.createTempFile("command", ".log");
        Process p = new ProcessBuilder(new ArrayList<>(cmd)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        p.getOutputStream().close();
        boolean finished = p.waitFor(300, TimeUnit.SECONDS);
        if (!finished) {
            p.destroyForcibly();
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(finished).as("finished: " + cmd + "\n" + out).isTrue();
        return new Outcome(p.exitValue(), out);
    }

    /** The exit code, or -1 when the program is missing or hangs for a minute. */
    static int exitCode(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (Exception e) {
            return -1;
        }
    }
}
