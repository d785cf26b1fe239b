package io.capstan.broker.log;

import io.capstan.config.BrokerConfig;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.rocksdb.RocksIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log cleaner: compacts shards of topics with cleanup.policy=compact, as Kafka's cleaner does, one shard at a time
 * on its own thread. For a shard that is due (see {@link CompactionSettings#due}) it maps every key of the dirty
 * section (from the clean point up to the high watermark, never the newest batch, nor batches younger than
 * min.compaction.lag.ms) to its latest offset, then rewrites every batch from the log start to the map's end with
 * {@link BatchCompactor}. A shard whose tombstones' delete horizon has come is compacted too, with nothing new mapped,
 * so the tombstones go. The new batches go through the group committer like every other change, in parts of a few
 * MiB, so the log has one writer and a crash leaves each batch either old or new. Reads and writes are held to
 * log.cleaner.io.max.bytes.per.second. Each replica compacts its own log.
 */
final class LogCompactor {
    private static final Logger log = LoggerFactory.getLogger(LogCompactor.class);
    private static final long PART_BYTES = 8 << 20;
    /** Below this many replaced bytes in a shard, its files are left to RocksDB's own compactions. */
    static final long RECLAIM_MIN_BYTES = 4 << 20;

    private final LogStore store;
    private final TopicCatalog catalog;
    private final GroupCommitAppender appender;
    /** The cleaner's settings as they are now: its rate and the topic defaults are dynamic broker configs. */
    private final Supplier<BrokerConfig.Cleaner> config;
    private final CleanerStats stats;
    private final IoThrottle throttle;
    private final KeyOffsetMap map;
    /** Bytes compaction replaced in each shard (by key) since RocksDB last rewrote that shard's range. */
    private final Map<Integer, Long> unreclaimed = new HashMap<>();

    /** {@code dedupeBufferBytes}: the key map's memory, taken once at start. */
    LogCompactor(LogStore store, TopicCatalog catalog, GroupCommitAppender appender, long dedupeBufferBytes, Supplier<BrokerConfig.Cleaner> config,
                 CleanerStats stats) {
        this.store = store;
        this.catalog = catalog;
        this.appender = appender;
        this.config = config;
        this.stats = stats;
        this.throttle = new IoThrottle(() -> config.get().ioMaxBytesPerSecond());
        this.map = new KeyOffsetMap(dedupeBufferBytes);
    }

    /** Ends the pass under way at its next batch, and every later one at once: the broker is stopping. */
    void stop() {
        throttle.stop();
    }

    /** A shard worth looking at, with what decides its turn. */
    private record Candidate(Shard shard, CompactionSettings settings, double dirtyRatio) {}

    /** Compacts every shard that is due, dirtiest first; returns how many it compacted. */
    int runOnce(long nowMs) {
        List<Candidate> candidates = new ArrayList<>();
        BrokerConfig.Cleaner defaults = config.get();
        for (Shard shard : catalog.shards()) {
            TopicMeta topic = catalog.topic(shard.topicPartition().topic());
            if (topic == null || shard.deleted()) {
                continue;
            }
            CompactionSettings settings = CompactionSettings.of(topic.configs(), defaults);
            if (settings.compact()) {
                candidates.add(new Candidate(shard, settings, shard.cleanPoint().dirtyRatio(shard.sizeBytes())));
            }
        }
        candidates.sort(Comparator.comparingDouble(Candidate::dirtyRatio).reversed());
        // a shard deleted or no longer compacted has nothing left to reclaim
        unreclaimed.keySet().retainAll(candidates.stream().map(c -> c.shard().key()).collect(java.util.stream.Collectors.toSet()));
        double dirtiest = 0;
        long mostOverdue = 0;
        int compacted = 0;
        for (Candidate c : candidates) {
            try {
                throttle.checkNotStopped();
                Outcome outcome = clean(c.shard(), c.settings(), nowMs);
                dirtiest = Math.max(dirtiest, outcome.dirtyRatioAfter());
                mostOverdue = Math.max(mostOverdue, outcome.overdueMs());
                if (outcome.compacted()) {
                    compacted++;
                }
            } catch (java.util.concurrent.CancellationException stopping) {
                // as after a failed pass: the parts written are sound on their own, the clean point stays where it was
                return compacted;
            } catch (Exception e) {
                stats.failed();
                log.warn("compacting {} failed, will retry next round: {}", c.shard(), e.toString());
            }
        }
        stats.survey(dirtiest, mostOverdue);
        return compacted;
    }

    /** What one look at a shard found and did. */
    private record Outcome(boolean compacted, double dirtyRatioAfter, long overdueMs) {}

    private Outcome clean(Shard shard, CompactionSettings settings, long nowMs) throws Exception {
        int incarnation = shard.incarnation();
        CleanPoint point = shard.cleanPoint();
        long logStart = shard.logStartOffset();
        long dirtyFrom = Math.max(point.offset(), logStart);
        double ratio = point.dirtyRatio(shard.sizeBytes());
        long[] bounds = dirtyBounds(shard, dirtyFrom);
        // never past the last stable offset: whether an open transaction's records stay is not decided yet
        long cleanableEnd = Math.min(shard.lastStableOffset(), bounds[0]);
        long oldestDirty = bounds[1];
        long overdue = oldestDirty == Long.MAX_VALUE ? 0 : settings.overdueMs(oldestDirty, nowMs);
        boolean dirtyDue = cleanableEnd > dirtyFrom && settings.due(ratio, oldestDirty, nowMs);
        boolean tombstonesDue = settings.compact() && point.tombstonesDue(nowMs);
        if (!dirtyDue && !tombstonesDue) {
            return new Outcome(false, ratio, overdue);
        }
        long started = System.nanoTime();
        throttle.restart();
        map.clear();
        List<AbortedTxn> aborted = AbortedTxn.overlapping(store, shard.key(), logStart, Math.max(cleanableEnd, dirtyFrom));
        long[] indexed = dirtyDue ? index(shard, dirtyFrom, cleanableEnd, settings, nowMs, aborted) : new long[] {dirtyFrom, 0};
        long mapEnd = indexed[0];
        if (mapEnd <= dirtyFrom && !tombstonesDue) {
            return new Outcome(false, ratio, overdue);
        }
        long[] rewritten = rewrite(shard, incarnation, mapEnd, settings, nowMs, aborted);
        if (rewritten == null) {
            return new Outcome(false, ratio, overdue); // the log changed under the pass; the next round starts over
        }
        long read = indexed[1] + rewritten[0];
        stats.pass(read, rewritten[1], (System.nanoTime() - started) / 1_000_000);
        log.info("compacted {} up to offset {}: {} keys, {} bytes removed", shard, mapEnd, map.size(), rewritten[1]);
        reclaim(shard, rewritten[1]);
        return new Outcome(true, shard.cleanPoint().dirtyRatio(shard.sizeBytes()), 0);
    }

    /**
     * Hands the space compaction freed back to the disk once a shard's range holds at least as many replaced bytes as
     * live ones (and {@link #RECLAIM_MIN_BYTES}): RocksDB keeps a replaced value until its own compactions reach the
     * file, which for a key space no longer written may be never, so a compacted topic would hold its whole history on
     * disk. Rewriting the range then at least halves its files; the cost, a read and write of the shard's live bytes,
     * is paid no more often than compaction removes as much again.
     */
    private void reclaim(Shard shard, long removed) {
        long pending = unreclaimed.merge(shard.key(), removed, Long::sum);
        if (pending < RECLAIM_MIN_BYTES || pending < shard.sizeBytes()) {
            return;
        }
        long before = store.logFileBytes();
        long started = System.nanoTime();
        store.compactRange(LogKeys.shardStart(shard.key()), LogKeys.shardEnd(shard.key()));
        unreclaimed.remove(shard.key());
        long freed = Math.max(0, before - store.logFileBytes());
        stats.reclaimed(freed);
        log.info("rewrote the files of {} to free the {} bytes compaction replaced there: {} bytes freed in {} ms", shard, pending,
                freed, (System.nanoTime() - started) / 1_000_000);
    }

    /**
     * The base offset of the newest batch (never compacted: it holds the log end offset across restarts, as Kafka's
     * active segment does) and the largest timestamp of the first batch from {@code dirtyFrom} (Long.MAX_VALUE: none).
     */
    private long[] dirtyBounds(Shard shard, long dirtyFrom) {
        try (LogStore.RangeIterator range = store.iterate(store.logFamily(), LogKeys.shardStart(shard.key()), LogKeys.shardEnd(shard.key()))) {
            RocksIterator it = range.it();
            it.seekToLast();
            if (!it.isValid()) {
                range.check();
                return new long[] {0, Long.MAX_VALUE};
            }
            long newestBase = LogKeys.offset(it.key());
            it.seek(LogKeys.of(shard.key(), dirtyFrom));
            long oldest = it.isValid() && LogKeys.offset(it.key()) < newestBase
                    ? ByteBuffer.wrap(it.value()).getLong(BatchHeader.MAX_TIMESTAMP) : Long.MAX_VALUE;
            return new long[] {newestBase, oldest};
        }
    }

    /**
     * Maps the keys of whole batches from {@code from} until {@code end}, a batch too recent or the map full; returns the
     * offset after the last batch mapped and the bytes read.
     */
    private long[] index(Shard shard, long from, long end, CompactionSettings settings, long nowMs, List<AbortedTxn> aborted) {
        long mapEnd = from;
        long read = 0;
        BatchHeader header = new BatchHeader();
        try (LogStore.RangeIterator range = store.iterate(store.logFamily(), LogKeys.of(shard.key(), from), LogKeys.of(shard.key(), end))) {
            RocksIterator it = range.it();
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] batch = store.batch(it.value());
                header.wrap(ByteBuffer.wrap(batch), 0);
                if (settings.tooRecent(header.maxTimestamp(), nowMs)) {
                    break;
                }
                if (header.recordsCount() > map.remaining()) {
                    if (mapEnd == from) {
                        log.warn("cannot compact {}: its batch at offset {} has {} records, more than log.cleaner.dedupe.buffer.size"
                                + " holds keys for; raise it", shard, header.baseOffset(), header.recordsCount());
                    }
                    break;
                }
                if (!abortedBatch(header, aborted) && !BatchCompactor.index(batch, map)) {
                    throw new IllegalStateException("the key map overflowed below its counted room");
                }
                read += batch.length;
                throttle.acquire(batch.length);
                mapEnd = header.lastOffset() + 1;
            }
            if (!it.isValid()) {
                range.check();
            }
        }
        return new long[] {mapEnd, read};
    }

    /**
     * A batch of an aborted transaction: as in Kafka's cleaner, its records neither count as the latest of their keys
     * (an aborted write must not displace a committed one) nor stay.
     */
    private static boolean abortedBatch(BatchHeader header, List<AbortedTxn> aborted) {
        if (!header.isTransactional() || header.isControl()) {
            return false;
        }
        for (AbortedTxn txn : aborted) {
            if (txn.covers(header.producerId(), header.baseOffset())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Rewrites every batch below {@code mapEnd} against the map and hands the changes to the committer in parts; the
     * last part records the new clean point. Returns the bytes read and removed, or null if the log changed under it.
     */
    private long[] rewrite(Shard shard, int incarnation, long mapEnd, CompactionSettings settings, long nowMs, List<AbortedTxn> aborted)
            throws Exception {
        List<LogCommand.Rewrite> part = new ArrayList<>();
        long partBytes = 0;
        long read = 0;
        long removed = 0;
        long cleanBytes = 0;
        long tombstonesDueAt = CleanPoint.NO_TOMBSTONES;
        BatchHeader header = new BatchHeader();
        BatchHeader keptHeader = new BatchHeader();
        try (LogStore.RangeIterator range = store.iterate(store.logFamily(), LogKeys.shardStart(shard.key()), LogKeys.of(shard.key(), mapEnd))) {
            RocksIterator it = range.it();
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] batch = store.batch(it.value());
                header.wrap(ByteBuffer.wrap(batch), 0);
                byte[] after = abortedBatch(header, aborted) ? BatchCompactor.REMOVED
                        : BatchCompactor.compact(batch, map, nowMs, settings.deleteRetentionMs());
                read += batch.length;
                throttle.acquire(batch.length);
                byte[] kept = after == null ? batch : after;
                if (kept.length > 0) {
                    // a horizon this pass stamped counts even if it is now (delete.retention.ms=0); one stamped before and
                    // passed belongs to a batch whose tombstones this pass removed
                    boolean stampedNow = header.deleteHorizonMs() < 0;
                    long horizon = keptHeader.wrap(ByteBuffer.wrap(kept), 0).deleteHorizonMs();
                    if (horizon >= 0 && (stampedNow || horizon > nowMs)) {
                        tombstonesDueAt = Math.min(tombstonesDueAt, horizon);
                    }
                }
                if (after == null) {
                    cleanBytes += batch.length;
                    continue;
                }
                part.add(new LogCommand.Rewrite(header.baseOffset(), header.lastOffset(), batch.length, after));
                cleanBytes += after.length;
                removed += batch.length - after.length;
                partBytes += batch.length;
                if (partBytes >= PART_BYTES) {
                    if (!appender.compact(shard, incarnation, part, null).get(60, TimeUnit.SECONDS)) {
                        return null;
                    }
                    part = new ArrayList<>();
                    partBytes = 0;
                }
            }
            if (!it.isValid()) {
                range.check();
            }
        }
        if (!appender.compact(shard, incarnation, part, new CleanPoint(mapEnd, cleanBytes, tombstonesDueAt)).get(60, TimeUnit.SECONDS)) {
            return null;
        }
        return new long[] {read, removed};
    }
}
