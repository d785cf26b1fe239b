package io.capstan.broker.log;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Frees the space of data files that are mostly dead (decision 0027): batches of every shard share a file, so one
 * batch of a long-retained shard would keep a file of short-lived ones on disk. Past {@code log.data.file.reclaim.ratio}
 * the file's live batches are read, checked, and written again to the newest file by the committer, which points their
 * entries there; the file then has no references and goes as any other (after its sync and the delete delay). A check
 * reclaims every file past the ratio, most dead first, each in chunks so that produce rounds run between them, its
 * reads held to log.cleaner.io.max.bytes.per.second as the compactor's are (both run on the cleaner thread).
 */
final class DataFileReclaimer {
    private static final Logger log = LoggerFactory.getLogger(DataFileReclaimer.class);
    /** Most bytes one committer round moves: a round of this size is a few milliseconds of copying. */
    static final int CHUNK_BYTES = 4 << 20;

    private final LogStore store;
    private final GroupCommitAppender appender;
    private final DoubleSupplier reclaimRatio;
    private final IoThrottle throttle;
    private final java.util.concurrent.atomic.AtomicLong reclaimed = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong movedBytes = new java.util.concurrent.atomic.AtomicLong();

    DataFileReclaimer(LogStore store, GroupCommitAppender appender, DoubleSupplier reclaimRatio, DoubleSupplier ioBytesPerSecond) {
        this.store = store;
        this.appender = appender;
        this.reclaimRatio = reclaimRatio;
        this.throttle = new IoThrottle(ioBytesPerSecond);
    }

    /** One file's batches, read and handed to the committer a chunk at a time. */
    private final class Pass {
        private final DataFiles files;
        private final int victim;
        private List<LogCommand.Move> chunk = new ArrayList<>();
        private long chunkBytes;
        int moved;
        long readBytes;

        Pass(DataFiles files, int victim) {
            this.files = files;
            this.victim = victim;
        }

        void add(LogStore.Reference r) throws Exception {
            // checked here (CRC32C): a damaged batch is reported and stays where it is, it is not copied on
            byte[] batch;
            try {
                batch = files.read(r.ref());
            } catch (StorageException e) {
                if (!files.exists(victim)) {
                    throw new FileGone();
                }
                throw e;
            }
            throttle.acquire(batch.length);
            chunk.add(new LogCommand.Move(r.key(), r.ref(), batch));
            chunkBytes += batch.length;
            if (chunkBytes >= CHUNK_BYTES) {
                flush();
            }
        }

        void flush() throws Exception {
            if (!chunk.isEmpty()) {
                moved += move(chunk, chunkBytes);
                readBytes += chunkBytes;
                chunk = new ArrayList<>();
                chunkBytes = 0;
            }
        }
    }

    private static final class FileGone extends RuntimeException {
        FileGone() {
            super(null, null, false, false);
        }
    }

    private int move(List<LogCommand.Move> chunk, long bytes) throws Exception {
        int moved = appender.relocate(chunk).get(60, TimeUnit.SECONDS);
        // the moves the committer skipped (dropped since the scan) are few; the figure counts what was handed over
        movedBytes.addAndGet(bytes);
        return moved;
    }

    /** Files reclaimed since start. */
    long reclaimed() {
        return reclaimed.get();
    }

    /** Bytes of batches handed to the committer to move since start. */
    long movedBytes() {
        return movedBytes.get();
    }

    /** Reclaims every file past the ratio, most dead first; returns the batches moved. */
    /** Ends the pass under way at its next batch, and every later one at once: the broker is stopping. */
    void stop() {
        throttle.stop();
    }

    int runOnce() throws Exception {
        DataFiles files = store.dataFiles();
        if (files == null) {
            return 0;
        }
        throttle.restart();
        int moved = 0;
        // a pass leaves its file without live bytes, so none comes back; the set guards against one that could not
        java.util.Set<Integer> reclaimedNow = new java.util.HashSet<>();
        for (int victim = files.mostlyDead(reclaimRatio.getAsDouble()); victim >= 0 && reclaimedNow.add(victim);
             victim = files.mostlyDead(reclaimRatio.getAsDouble())) {
            moved += reclaim(files, victim);
        }
        return moved;
    }

    private int reclaim(DataFiles files, int victim) throws Exception {
        long liveBefore = files.liveBytes(victim);
        Pass pass = new Pass(files, victim);
        try {
            // streamed: a pass holds one chunk of batches, however many the file has
            store.forEachReferenceInto(victim, pass::add);
            pass.flush();
        } catch (FileGone gone) {
            return pass.moved; // every batch in it was dropped meanwhile, and the file went
        }
        log.info("reclaimed data file {}: {} bytes of it were still referenced; moved {} batches ({} bytes read) to the newest file",
                victim, liveBefore, pass.moved, pass.readBytes);
        reclaimed.incrementAndGet();
        return pass.moved;
    }
}
