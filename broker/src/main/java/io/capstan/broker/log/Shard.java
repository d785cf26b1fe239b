package io.capstan.broker.log;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * Runtime state of one shard (partition). The committer's writer thread alone changes {@code nextOffset}, the
 * producer table and the size; its syncer thread publishes {@code highWatermark}, the log start and the tail cache
 * once a write is durable. Readers see only offsets below the high watermark, which is how "consumers read only committed
 * data" is enforced.
 */
public final class Shard {
    private final TopicPartition topicPartition;
    private final int key;
    private final TailCache tail;
    private final Map<Long, ProducerEntry> producers = new HashMap<>();
    private volatile long logStartOffset;
    private volatile long highWatermark;
    private volatile int leaderEpoch;
    private volatile boolean deleted;
    private volatile long sizeBytes;
    private long nextOffset;

    public Shard(TopicPartition topicPartition, int key, long logStartOffset, long logEndOffset, long sizeBytes, long tailCacheBytes) {
        this.topicPartition = topicPartition;
        this.sizeBytes = sizeBytes;
        this.key = key;
        this.logStartOffset = logStartOffset;
        this.highWatermark = logEndOffset;
        this.nextOffset = logEndOffset;
        this.tail = new TailCache(tailCacheBytes);
    }

    public TopicPartition topicPartition() { return topicPartition; }
    public int key() { return key; }
    public TailCache tail() { return tail; }
    public long logStartOffset() { return logStartOffset; }
    public long highWatermark() { return highWatermark; }
    public int leaderEpoch() { return leaderEpoch; }
    public boolean deleted() { return deleted; }
    /** Exact bytes of the batches stored, maintained by the committer and persisted with every write. */
    public long sizeBytes() { return sizeBytes; }

    // --- written only by the committer's two threads as the class comment says (and recovery before they start) ---
    void markDeleted(boolean value) { deleted = value; }
    void logStartOffset(long offset) { logStartOffset = offset; }
    void sizeBytes(long bytes) { sizeBytes = bytes; }
    long nextOffset() { return nextOffset; }
    void nextOffset(long offset) { nextOffset = offset; }
    void publish(long committedEnd) { highWatermark = committedEnd; }
    ProducerEntry producer(long producerId) { return producers.get(producerId); }
    void producer(long producerId, ProducerEntry entry) { producers.put(producerId, entry); }

    @Override
    public String toString() {
        return topicPartition.toString();
    }
}
