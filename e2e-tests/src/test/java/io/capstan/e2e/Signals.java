package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Signals to broker processes, as an operator or the kernel sends them. */
final class Signals {
    private Signals() {}

    static void send(String name, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(pid)).inheritIO().start();
        assertThat(kill.waitFor()).as("kill -" + name + " " + pid).isZero();
    }

    /**
     * SIGSTOP, but not while the process holds the local metadata store's write lock: a process paused inside a write
     * holds up every writer of that store (a documented limit of the file store, which the API-server store does not
     * have), and the tests that pause a broker are about something else. Linux lists held POSIX locks with their owner
     * in /proc/locks.
     */
    static void pauseOutsideMetadataWrites(long pid, Path lockFile) throws Exception {
        long inode = ((Number) Files.getAttribute(lockFile, "unix:ino")).longValue();
        for (int attempt = 1; ; attempt++) {
            send("STOP", pid);
            if (!holdsLock(pid, inode) || attempt == 20) {
                return;
            }
            send("CONT", pid);
            System.out.printf("broker process %d was paused inside a metadata write; resumed it to pause it again%n", pid);
            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L); // let it finish the write: pacing, not synchronisation
        }
    }

    /** Whether {@code pid} holds a POSIX lock on the file with this inode (its RocksDB LOCK file is held all along). */
    private static boolean holdsLock(long pid, long inode) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/locks"))) {
            // "1: POSIX  ADVISORY  WRITE 12345 08:01:1234567 0 EOF": owner pid, then major:minor:inode
            String[] fields = line.trim().split("\\s+");
            if (fields.length > 5 && fields[1].equals("POSIX") && fields[4].equals(String.valueOf(pid))
                    && fields[5].endsWith(":" + inode)) {
                return true;
            }
        }
        return false;
    }
}
