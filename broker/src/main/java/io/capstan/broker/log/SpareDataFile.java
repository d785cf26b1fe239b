package io.capstan.broker.log;

import io.capstan.cluster.DaemonThreads;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The next data file, ready before it is needed with every block allocated and written, so that appending rounds to it
 * changes neither its size nor its block map, and the fdatasync of each round writes the round alone instead of the
 * round and then the file's metadata (decision 0034). Either a deleted data file kept instead of deleted (recycled: its
 * old rounds are never replayed, none follows the new ones) or, with log.preallocate, one written with zeros on a
 * thread of its own. Kept across restarts (the name it has once complete says it is), taken by renaming it to the data
 * file's name.
 */
final class SpareDataFile implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SpareDataFile.class);
    static final String NAME = "spare.data";
    private static final String MAKING = NAME + ".making";
    /** Zeros reach the disk a few MiB at a time, so the rounds' own fsyncs never queue behind one large writeback. */
    private static final int SYNC_EVERY = 8 << 20;
    /**
     * A page per write: larger writes leave the file's pages cached in large folios, and each round that then dirties a
     * few KiB of one is accounted (/proc/PID/io write_bytes) as writing the whole folio, up to 20 times the bytes the
     * disk receives.
     */
    private static final int WRITE_BYTES = 4096;
    private static final long RETRY_AFTER_FAILURE_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final Path dir;
    private final long bytes;
    private final boolean zeroFill;
    /** Guards the spare's name: the committer takes it, the deleter recycles into it, the maker completes it. */
    private final Object lock = new Object();
    private final ExecutorService maker = Executors.newSingleThreadExecutor(DaemonThreads.named("capstan-data-file-preallocator"));
    private volatile boolean ready;
    private volatile boolean making;
    private volatile long failedAt;
    private volatile boolean failedOnce;
    private volatile boolean closed;

    /** {@code zeroFill}: make spares with zeros when asked ({@link #prepare}); otherwise only deleted files are kept. */
    SpareDataFile(Path dir, long bytes, boolean zeroFill) {
        this.dir = dir;
        this.bytes = bytes;
        this.zeroFill = zeroFill;
        try {
            // a spare being made when the broker stopped may be short or unsynced: made again when needed
            Files.deleteIfExists(dir.resolve(MAKING));
            Path spare = dir.resolve(NAME);
            ready = Files.exists(spare) && Files.size(spare) == bytes;
            if (!ready) {
                Files.deleteIfExists(spare); // made for another log.data.file.bytes
            }
        } catch (IOException e) {
            ready = false;
            log.warn("could not check the spare data file in {} ({}); new data files begin empty until one is made", dir, e.toString());
        }
    }

    /** Starts making a spare with zeros unless one is ready or being made, or zero-filling is off. Committer thread. */
    void prepare() {
        if (!zeroFill || ready || making || (failedOnce && System.nanoTime() - failedAt < RETRY_AFTER_FAILURE_NANOS)) {
            return;
        }
        making = true;
        maker.execute(this::make);
    }

    /**
     * Renames the spare to {@code target} and returns true, or false when none is ready (the caller creates an empty file
     * then). The caller syncs the directory. Committer thread.
     */
    boolean takeAs(Path target) throws IOException {
        synchronized (lock) {
            if (!ready) {
                return false;
            }
            Files.move(dir.resolve(NAME), target, StandardCopyOption.ATOMIC_MOVE);
            ready = false;
            return true;
        }
    }

    /**
     * Keeps {@code deleted}, a data file nothing refers to any more and at least a spare's size, as the spare unless one
     * is ready, and returns whether it did (else the caller deletes it). Cut to the spare's size, so that a file begun on
     * it ends where its last round does once full, as a replay expects before it goes on to the next file. Its old
     * rounds stay in it until written over: none of their headers names where a new round ends, so a replay never
     * takes one for the next. Deleter thread.
     */
    boolean recycle(Path deleted) throws IOException {
        synchronized (lock) {
            if (ready || closed) {
                return false;
            }
            try (FileChannel channel = FileChannel.open(deleted, StandardOpenOption.WRITE)) {
                if (channel.size() < bytes) {
                    return false;
                }
                channel.truncate(bytes);
                channel.force(true);
            }
            Files.move(deleted, dir.resolve(NAME), StandardCopyOption.ATOMIC_MOVE);
            forceDirectory();
            ready = true;
            return true;
        }
    }

    private void forceDirectory() throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    private void make() {
        Path making = dir.resolve(MAKING);
        try (FileChannel channel = FileChannel.open(making, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ByteBuffer.allocateDirect(WRITE_BYTES);
            long unsynced = 0;
            for (long position = 0; position < bytes; ) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), bytes - position));
                int n = channel.write(zeros, position);
                position += n;
                unsynced += n;
                if (unsynced >= SYNC_EVERY) {
                    channel.force(false);
                    unsynced = 0;
                }
            }
            channel.force(true);
            channel.close();
            synchronized (lock) {
                if (ready) {
                    // a deleted file was recycled meanwhile: it is the spare, these zeros are not needed
                    Files.delete(making);
                    return;
                }
                Files.move(making, dir.resolve(NAME), StandardCopyOption.ATOMIC_MOVE);
                forceDirectory();
                ready = true;
            }
            log.debug("spare data file of {} bytes ready in {}", bytes, dir);
        } catch (IOException | RuntimeException e) {
            if (closed) {
                log.debug("stopped making a spare data file in {}: the broker is stopping", dir);
                deleteQuietly(making);
                return;
            }
            failedAt = System.nanoTime();
            failedOnce = true;
            log.warn("could not make a spare data file of {} bytes in {} ({}); the next data files begin empty and each round's fsync"
                    + " writes their metadata too; tried again in a minute. Check the free space of the data volume", bytes, dir, e.toString());
            deleteQuietly(making);
        } finally {
            this.making = false;
        }
    }

    private static void deleteQuietly(Path making) {
        try {
            Files.deleteIfExists(making);
        } catch (IOException ignored) {
            // deleted at the next start
        }
    }

    @Override
    public void close() {
        closed = true;
        maker.shutdownNow();
        try {
            maker.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
