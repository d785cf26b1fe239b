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
 * entries there; the file then has no references and goes as any other (after its sync and the delete delay). A pass
 * handles one file, in chunks so that produce rounds run between them.
 */
final class DataFileReclaimer {
    private static final Logger log = LoggerFactory.getLogger(DataFileReclaimer.class);
    /** Most bytes one committer round moves: a round of this size is a few milliseconds of copying. */
    static final int CHUNK_BYTES = 4 << 20;

    private final LogStore store;
    private final GroupCommitAppender appender;
    private final DoubleSupplier reclaimRatio;

    DataFileReclaimer(LogStore store, GroupCommitAppender appender, DoubleSupplier reclaimRatio) {
        this.store = store;
        this.appender = appender;
        this.reclaimRatio = reclaimRatio;
    }

    /** Reclaims the most dead file past the ratio, if any; returns the batches moved out of it. */
    int runOnce() throws Exception {
        DataFiles files = store.dataFiles();
        if (files == null) {
            return 0;
        }
        int victim = files.mostlyDead(reclaimRatio.getAsDouble());
        if (victim < 0) {
            return 0;
        }
        long liveBefore = files.liveBytes(victim);
        List<LogStore.Reference> references = store.referencesInto(victim);
        int moved = 0;
        long movedBytes = 0;
        List<LogCommand.Move> chunk = new ArrayList<>();
        long chunkBytes = 0;
        for (LogStore.Reference r : references) {
            // checked here (CRC32C): a damaged batch is reported and stays where it is, it is not copied on
            byte[] batch;
            try {
                batch = files.read(r.ref());
            } catch (StorageException e) {
                if (!files.exists(victim)) {
                    return moved; // every batch in it was dropped meanwhile, and the file went
                }
                throw e;
            }
            chunk.add(new LogCommand.Move(r.key(), r.ref(), batch));
            chunkBytes += batch.length;
            if (chunkBytes >= CHUNK_BYTES) {
                moved += appender.relocate(chunk).get(60, TimeUnit.SECONDS);
                movedBytes += chunkBytes;
                chunk = new ArrayList<>();
                chunkBytes = 0;
            }
        }
        if (!chunk.isEmpty()) {
            moved += appender.relocate(chunk).get(60, TimeUnit.SECONDS);
            movedBytes += chunkBytes;
        }
        log.info("reclaimed data file {}: {} bytes of it were still referenced; moved {} batches ({} bytes read) to the newest file",
                victim, liveBefore, moved, movedBytes);
        return moved;
    }
}
