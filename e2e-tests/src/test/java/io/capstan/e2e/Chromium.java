package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's headless Chromium loading a page as a user's browser would: its DOM after the page's requests (virtual
 * time), or a screenshot. Not installed is a failure, not a skip: the tests that use it run where CI installs it.
 */
public final class Chromium {
    private Chromium() {}

    public static String dumpDom(String url, Path work) {
        return run(work, "--dump-dom", url);
    }

    public static void screenshot(String url, Path png, Path work) {
        try {
            Files.createDirectories(png.toAbsolutePath().getParent());
            Files.deleteIfExists(png);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        run(work, "--screenshot=" + png.toAbsolutePath(), "--window-size=1200,900", url);
        try {
            assertThat(Files.readAllBytes(png)).as("a PNG of %s", url).hasSizeGreaterThan(10_000)
                    .startsWith(new byte[] {(byte) 0x89, 'P', 'N', 'G'});
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String binary() {
        for (String candidate : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        throw new AssertionError("chromium is not installed: apt-get install chromium (.ci/run does)");
    }

    private static String run(Path work, String... args) {
        try {
            Files.createDirectories(work);
            Path log = work.resolve("chromium.log");
            List<String> command = new ArrayList<>(List.of(binary(), "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=" + work.toAbsolutePath().resolve("profile"),
                    "--virtual-time-budget=4000"));
            command.addAll(List.of(args));
            Process p = new ProcessBuilder(command).redirectError(log.toFile()).start();
            byte[] out = p.getInputStream().readAllBytes();
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("chromium finished").isTrue();
            assertThat(p.exitValue()).as("chromium's exit status; its log: %s", Files.readString(log)).isZero();
            return new String(out, StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
