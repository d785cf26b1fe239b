package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The skewed-clock harness itself: a JVM under {@link FakeClock} sees its wall clock off by the offset asked for, and
 * its timed waits (the ones a broker's threads block in) last as long as asked rather than returning at once.
 */
class FakeClockTest {
    private static final String PROBE = """
            public class Probe {
                public static void main(String[] args) throws Exception {
                    long t = System.nanoTime();
                    java.util.concurrent.locks.LockSupport.parkNanos(300_000_000L);
                    long park = System.nanoTime() - t;
                    Object o = new Object();
                    t = System.nanoTime();
                    synchronized (o) { o.wait(300); }
                    long waited = System.nanoTime() - t;
                    t = System.nanoTime();
                    Thread.sleep(300);
                    long slept = System.nanoTime() - t;
                    System.out.println(System.currentTimeMillis() + " " + park / 1_000_000 + " " + waited / 1_000_000 + " " + slept / 1_000_000);
                }
            }
            """;

    @TempDir
    Path dir;

    @Test
    void theWallClockIsOffAndTimedWaitsLastAsLongAsAsked() throws Exception {
        if ("1".equals(System.getenv("CAPSTAN_REQUIRE_FAKETIME"))) {
            assertThat(FakeClock.LIBRARY).as("libfaketime (apt-get install faketime)").exists();
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(FakeClock.LIBRARY), "libfaketime is not installed (apt-get install faketime)");
        Path source = Files.writeString(dir.resolve("Probe.java"), PROBE);
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), source.toString())
                .redirectErrorStream(true);
        builder.environment().putAll(FakeClock.preloaded("+45s"));
        long before = System.currentTimeMillis();
        Process probe = builder.start();
        assertThat(probe.waitFor(60, TimeUnit.SECONDS)).as("the probe JVM finished").isTrue();
        long after = System.currentTimeMillis();
        String output = new String(probe.getInputStream().readAllBytes()).trim();
        assertThat(probe.exitValue()).as(output).isZero();
        List<Long> figures = new ArrayList<>();
        for (String f : output.lines().reduce((a, b) -> b).orElseThrow().split(" ")) {
            figures.add(Long.parseLong(f));
        }
        long wallClock = figures.get(0);
        assertThat(wallClock).as("the probe's wall clock, 45 s ahead").isBetween(before + 45_000, after + 45_000);
        for (int i = 1; i <= 3; i++) {
            assertThat(figures.get(i)).as("a 300 ms timed wait (park, Object.wait, sleep) under libfaketime, in ms: %s", output)
                    .isBetween(250L, 5_000L);
        }
    }
}
