package io.capstan.broker.log;

import java.util.concurrent.atomic.AtomicLong;

/** What the log cleaner did, for /metrics: passes, bytes it read and removed, and how dirty and how late the shards are. */
public final class CleanerStats {
    private final AtomicLong passes = new AtomicLong();
    private final AtomicLong bytesRead = new AtomicLong();
    private final AtomicLong bytesRemoved = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong rangeRewrites = new AtomicLong();
    private final AtomicLong bytesFreed = new AtomicLong();
    private volatile double maxDirtyRatio;
    private volatile long maxCompactionDelayMs;
    private volatile long lastPassMs;

    void pass(long read, long removed, long tookMs) {
        passes.incrementAndGet();
        bytesRead.addAndGet(read);
        bytesRemoved.addAndGet(removed);
        lastPassMs = tookMs;
    }

    void reclaimed(long freed) {
        rangeRewrites.incrementAndGet();
        bytesFreed.addAndGet(freed);
    }

    void failed() {
        failures.incrementAndGet();
    }

    void survey(double dirtiest, long longestDelayMs) {
        maxDirtyRatio = dirtiest;
        maxCompactionDelayMs = longestDelayMs;
    }

    public long passes() { return passes.get(); }
    /** Bytes of batches the cleaner read, in both its map-building and rewriting reads. */
    public long bytesRead() { return bytesRead.get(); }
    /** Bytes compaction took off the log. */
    public long bytesRemoved() { return bytesRemoved.get(); }
    public long failures() { return failures.get(); }
    /** Times a shard's files were rewritten to return the space compaction freed to the disk. */
    public long rangeRewrites() { return rangeRewrites.get(); }
    /** Bytes of table files those rewrites freed. */
    public long bytesFreed() { return bytesFreed.get(); }
    /** The largest share of not-yet-compacted bytes among compacted shards, at the last survey. */
    public double maxDirtyRatio() { return maxDirtyRatio; }
    /** How long past max.compaction.lag.ms the most overdue shard's oldest dirty batch is (0: none overdue). */
    public long maxCompactionDelayMs() { return maxCompactionDelayMs; }
    public long lastPassMs() { return lastPassMs; }
}
