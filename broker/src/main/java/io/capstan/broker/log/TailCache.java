package io.capstan.broker.log;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The newest committed batches of one shard, so readers that keep up (consumers, later followers) never touch
 * RocksDB. The group committer adds, retention truncates, any thread reads.
 */
public final class TailCache {
    private final ConcurrentSkipListMap<Long, byte[]> batches = new ConcurrentSkipListMap<>();
    private final TailCacheBudget budget;
    private long bytes;

    public TailCache(TailCacheBudget budget) {
        this.budget = budget;
    }

    public synchronized void add(long baseOffset, byte[] batch) {
        if (budget.perShard() <= 0) {
            return;
        }
        batches.put(baseOffset, batch);
        bytes += batch.length;
        trim();
    }

    /**
     * Drops the oldest batches until the cache fits its share, down to none: a batch larger than the share is read
     * from the log instead, so all caches together never exceed the broker-wide bound.
     */
    public synchronized void trim() {
        long limit = budget.perShard();
        while (bytes > limit && !batches.isEmpty()) {
            Map.Entry<Long, byte[]> oldest = batches.pollFirstEntry();
            bytes -= oldest.getValue().length;
        }
    }

    /** Bytes held now. */
    public synchronized long bytes() {
        return bytes;
    }

    /** Forgets batches wholly below a new log start offset (one that holds it stays: its later records are readable). */
    public synchronized void truncateBefore(long offset) {
        Map.Entry<Long, byte[]> e;
        while ((e = batches.firstEntry()) != null && e.getKey() + java.nio.ByteBuffer.wrap(e.getValue()).getInt(BatchHeader.LAST_OFFSET_DELTA) < offset) {
            batches.remove(e.getKey());
            bytes -= e.getValue().length;
        }
    }

    /** Forgets batches at or after {@code offset} (a follower truncated its log there). */
    public synchronized void truncateFrom(long offset) {
        Map.Entry<Long, byte[]> e;
        while ((e = batches.lastEntry()) != null && e.getKey() >= offset) {
            batches.remove(e.getKey());
            bytes -= e.getValue().length;
        }
    }

    /** Lowest base offset held, or Long.MAX_VALUE when empty. */
    public long firstOffset() {
        Map.Entry<Long, byte[]> first = batches.firstEntry();
        return first == null ? Long.MAX_VALUE : first.getKey();
    }

    /** Batches from the one containing {@code offset} onwards (ascending), or an empty view if not held. */
    public java.util.NavigableMap<Long, byte[]> from(long offset) {
        Long floor = batches.floorKey(offset);
        return floor == null ? java.util.Collections.emptyNavigableMap() : batches.tailMap(floor, true);
    }
}
