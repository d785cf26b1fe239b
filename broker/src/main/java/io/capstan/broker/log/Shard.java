package io.capstan.broker.log;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * Runtime state of one shard (partition). The committer's writer thread alone changes {@code nextOffset}, the
 * producer table, the epoch history and the size; its syncer thread publishes the durable log end, the log start
 * and the tail cache once a write is durable. Consumers see only offsets below the high watermark, which is how
 * "consumers read only committed data" is enforced. On a single replica the high watermark is the durable log end;
 * once the shard is replicated, the replica layer moves it (the leader from its followers' progress, a follower
 * from the leader's answers), and it never exceeds the durable log end.
 */
public final class Shard {
    private final TopicPartition topicPartition;
    private final int key;
    private final TailCache tail;
    private final ShardTraffic traffic = new ShardTraffic();
    private final Map<Long, ProducerEntry> producers = new HashMap<>();
    private final TxnSpans txnSpans = new TxnSpans();
    /** Each transactional producer's transaction here as of the durable log end, for produce requests to check against. */
    private final Map<Long, TxnVerification.View> txnViews = new java.util.concurrent.ConcurrentHashMap<>();
    /** {@link TxnSpans#snapshot()} as of the durable log end. */
    private volatile long[] unstable = new long[0];
    private volatile long logStartOffset;
    private volatile long highWatermark;
    private volatile long logEnd;
    private volatile boolean replicated;
    private final EpochHistory epochs;
    private volatile int leaderEpoch;
    private volatile boolean deleted;
    private volatile long sizeBytes;
    private long nextOffset;
    private volatile CleanPoint cleanPoint = CleanPoint.NONE;
    /** Bumped by the committer after each write that cut the log's end or cleared it: a compaction planned before is void. */
    private volatile int incarnation;
    /** The committer's view of the log start: batches ending below it are deleted (or being deleted) in RocksDB. */
    private long writtenLogStart;

    public Shard(TopicPartition topicPartition, int key, long logStartOffset, long logEndOffset, long sizeBytes, TailCacheBudget tailCache) {
        this(topicPartition, key, logStartOffset, logEndOffset, sizeBytes, tailCache, new EpochHistory());
    }

    Shard(TopicPartition topicPartition, int key, long logStartOffset, long logEndOffset, long sizeBytes, TailCacheBudget tailCache,
          EpochHistory epochs) {
        this.epochs = epochs;
        this.logEnd = logEndOffset;
        this.leaderEpoch = Math.max(0, epochs.latestEpoch());
        this.topicPartition = topicPartition;
        this.sizeBytes = sizeBytes;
        this.key = key;
        this.logStartOffset = logStartOffset;
        this.highWatermark = logEndOffset;
        this.nextOffset = logEndOffset;
        this.writtenLogStart = logStartOffset;
        this.tail = new TailCache(tailCache);
    }

    public TopicPartition topicPartition() { return topicPartition; }
    public int key() { return key; }
    public TailCache tail() { return tail; }
    public ShardTraffic traffic() { return traffic; }
    public long logStartOffset() { return logStartOffset; }
    public long highWatermark() { return highWatermark; }
    /**
     * The last stable offset: below it every transaction is decided and its marker replicated, so read_committed
     * consumers read up to here (Kafka's LSO); the high watermark when no transaction is open.
     */
    public long lastStableOffset() { return TxnSpans.lastStableOffset(unstable, highWatermark); }
    /** End of what is durably in this replica's log (its LEO); followers read up to here, consumers up to the HW. */
    public long logEnd() { return logEnd; }
    public int leaderEpoch() { return leaderEpoch; }
    public EpochHistory epochs() { return epochs; }
    public boolean replicated() { return replicated; }

    // --- the replica layer's controls ---

    /** From now on the replica layer moves the high watermark, starting from {@code highWatermark}. */
    public void replicate(long highWatermark) {
        this.replicated = true;
        this.highWatermark = Math.min(highWatermark, logEnd);
    }

    /** The epoch stamped into batches this broker appends as leader. */
    public void leaderEpoch(int epoch) { leaderEpoch = epoch; }

    /** Moves the high watermark; never beyond the durable log end, and only forward. */
    public void advanceHighWatermark(long hw) {
        long capped = Math.min(hw, logEnd);
        if (capped > highWatermark) {
            highWatermark = capped;
        }
    }
    public boolean deleted() { return deleted; }
    /** Exact bytes of the batches stored, maintained by the committer and persisted with every write. */
    public long sizeBytes() { return sizeBytes; }

    // --- written only by the committer's two threads as the class comment says (and recovery before they start) ---
    void markDeleted(boolean value) { deleted = value; }
    CleanPoint cleanPoint() { return cleanPoint; }
    void cleanPoint(CleanPoint point) { cleanPoint = point; }
    int incarnation() { return incarnation; }
    void newIncarnation() { incarnation++; }
    long writtenLogStart() { return writtenLogStart; }
    void writtenLogStart(long offset) { writtenLogStart = offset; }
    void logStartOffset(long offset) { logStartOffset = offset; }
    void sizeBytes(long bytes) { sizeBytes = bytes; }
    long nextOffset() { return nextOffset; }
    void nextOffset(long offset) { nextOffset = offset; }
    void publish(long committedEnd) {
        logEnd = committedEnd;
        if (!replicated) {
            highWatermark = committedEnd;
        } else if (highWatermark > committedEnd) {
            highWatermark = committedEnd; // truncated below it (a follower that took uncommitted records)
        }
    }
    TxnSpans txnSpans() { return txnSpans; }

    /** The producer's transaction here as last made durable: open or not, and its last marker's offset. */
    public TxnVerification.View txnView(long producerId) {
        TxnVerification.View v = txnViews.get(producerId);
        return v == null ? TxnVerification.View.NONE : v;
    }

    void txnViews(Map<Long, TxnVerification.View> changed) {
        changed.forEach((id, view) -> {
            if (view == null) {
                txnViews.remove(id);
            } else {
                txnViews.put(id, view);
            }
        });
    }
    void unstable(long[] spans) { unstable = spans; }
    java.util.Set<Map.Entry<Long, ProducerEntry>> producers() { return producers.entrySet(); }
    ProducerEntry producer(long producerId) { return producers.get(producerId); }
    void producer(long producerId, ProducerEntry entry) { producers.put(producerId, entry); }

    @Override
    public String toString() {
        return topicPartition.toString();
    }
}
