package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The power-loss harness itself, on a process whose every file operation the test chooses (Python's os module calls
 * libc's write, pwrite, ftruncate, fsync, rename and unlink): after a cut, each file holds exactly what was fsynced.
 */
class PowerLossShimTest {
    @TempDir
    Path dir;

    @Test
    void aCutKeepsExactlyWhatWasFsynced() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        PowerLoss power = new PowerLoss(NativeShim.compile("powerloss"), data, dir.resolve("journal"));
        String script = String.join("\n",
                "import os, signal",
                "def fd(name, flags=os.O_WRONLY | os.O_CREAT): return os.open(name, flags, 0o644)",
                // synced, then appended to and partly overwritten without a sync
                "a = fd('appended'); os.write(a, b'durable|'); os.fsync(a); os.write(a, b'lost'); os.pwrite(a, b'XX', 0)",
                // never synced at all
                "b = fd('never-synced'); os.write(b, b'gone'); os.close(b)",
                // synced, then cut short without a sync: the cut-off bytes come back
                "c = fd('truncated'); os.write(c, b'0123456789'); os.fdatasync(c); os.ftruncate(c, 4)",
                // written, synced and renamed over an older file (whose inode number may be reused)
                "d = fd('old'); os.write(d, b'older, never synced'); os.close(d)",
                "e = fd('tmp'); os.write(e, b'current'); os.fsync(e); os.close(e); os.rename('tmp', 'old')",
                // an unsynced file deleted, then a new one written and synced (it may get the same inode number)
                "f = fd('deleted'); os.write(f, b'never synced'); os.close(f); os.unlink('deleted')",
                "g = fd('reused'); os.write(g, b'synced after a delete'); os.fsync(g); os.close(g)",
                // a synced file written again in place and synced again: both syncs hold
                "h = fd('rewritten'); os.write(h, b'first'); os.fsync(h); os.pwrite(h, b'FIRST', 0); os.fsync(h); os.write(h, b'+lost')",
                "os.kill(os.getpid(), signal.SIGKILL)");
        ProcessBuilder python = new ProcessBuilder("python3", "-c", script).directory(data.toFile()).inheritIO();
        python.environment().putAll(power.environment());
        Process p = python.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("killed by SIGKILL after its last write").isEqualTo(128 + 9);
        assertThat(Files.readString(data.resolve("appended"))).as("before the cut").isEqualTo("XXrable|lost");

        PowerLoss.Cut cut = power.cut();

        assertThat(Files.readString(data.resolve("appended"))).isEqualTo("durable|");
        assertThat(Files.readString(data.resolve("never-synced"))).isEmpty();
        assertThat(Files.readString(data.resolve("truncated"))).isEqualTo("0123456789");
        assertThat(Files.readString(data.resolve("old"))).isEqualTo("current");
        assertThat(Files.exists(data.resolve("deleted"))).isFalse();
        assertThat(Files.readString(data.resolve("reused"))).isEqualTo("synced after a delete");
        assertThat(Files.readString(data.resolve("rewritten"))).isEqualTo("FIRST");
        assertThat(cut.writesUndone()).as("lost|, XX, gone, the truncate, +lost").isEqualTo(5);
        assertThat(cut.files()).isEqualTo(4);
        assertThat(Files.exists(dir.resolve("journal"))).as("a fresh journal after the cut").isFalse();
    }
}
