package io.capstan.broker.log;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A shard's leader epochs and the offset at which each began, as Kafka's leader-epoch checkpoint. A follower asks the
 * leader where its own latest epoch ends (OffsetForLeaderEpoch) and truncates whatever it holds beyond that point:
 * records a deposed leader wrote but never committed. The committer's writer thread changes it; any thread reads.
 */
public final class EpochHistory {
    public static final int UNDEFINED_EPOCH = -1;
    public static final long UNDEFINED_OFFSET = -1;

    /** The answer to "where does epoch E end": the largest epoch at or below E, and the offset where it ends. */
    public record EpochEnd(int epoch, long endOffset) {
        static final EpochEnd UNDEFINED = new EpochEnd(UNDEFINED_EPOCH, UNDEFINED_OFFSET);
    }

    private final NavigableMap<Integer, Long> starts = new ConcurrentSkipListMap<>();

    public int latestEpoch() {
        return starts.isEmpty() ? UNDEFINED_EPOCH : starts.lastKey();
    }

    /** Records that {@code epoch} begins at {@code offset}; true when it is new (and must be persisted). */
    boolean begin(int epoch, long offset) {
        if (epoch <= latestEpoch()) {
            return false;
        }
        starts.put(epoch, offset);
        return true;
    }

    /** Where {@code requested} ends in this log, whose end is {@code logEnd}; Kafka's semantics. */
    public EpochEnd endOf(int requested, long logEnd) {
        if (starts.isEmpty() || requested < 0) {
            return EpochEnd.UNDEFINED;
        }
        if (requested >= latestEpoch()) {
            return new EpochEnd(latestEpoch(), logEnd);
        }
        Map.Entry<Integer, Long> floor = starts.floorEntry(requested);
        if (floor == null) {
            return EpochEnd.UNDEFINED; // older than anything this log remembers
        }
        return new EpochEnd(floor.getKey(), starts.higherEntry(requested).getValue());
    }

    /** Forgets epochs that began at or after {@code offset} (the log was truncated there). */
    void truncateFromEnd(long offset) {
        starts.entrySet().removeIf(e -> e.getValue() >= offset);
    }

    void clear() {
        starts.clear();
    }

    /** Back to an earlier {@link #asMap()} (a write that truncated or cleared it failed). */
    void restore(Map<Integer, Long> earlier) {
        starts.clear();
        starts.putAll(earlier);
    }

    public Map<Integer, Long> asMap() {
        return Map.copyOf(starts);
    }

    byte[] encode() {
        ByteBuffer buf = ByteBuffer.allocate(starts.size() * 12);
        starts.forEach((epoch, start) -> buf.putInt(epoch).putLong(start));
        return buf.array();
    }

    static EpochHistory decode(byte[] bytes) {
        EpochHistory history = new EpochHistory();
        if (bytes != null) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.remaining() >= 12) {
                history.starts.put(buf.getInt(), buf.getLong());
            }
        }
        return history;
    }

    /** Meta key of a shard's history. */
    static byte[] key(int shardKey) {
        return LogStore.bytes("epochs/" + shardKey);
    }
}
