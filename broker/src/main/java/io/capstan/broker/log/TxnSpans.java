package io.capstan.broker.log;

import java.util.Map;
import java.util.TreeMap;

/**
 * The transactions that hold a shard's last stable offset (LSO) down: those still open, and those ended by a marker
 * the high watermark has not passed yet (Kafka's unreplicated transactions: a replica that takes over may not have the
 * marker). The committer's writer keeps it; readers get immutable snapshots as pairs of first offset and marker offset
 * ({@link Long#MAX_VALUE} while open), ordered by first offset.
 */
final class TxnSpans {
    private static final long[] NONE = new long[0];
    private final TreeMap<Long, Long> spans = new TreeMap<>();

    /** Follows one producer's entry from {@code before} to {@code after} (either may be null); true if anything changed. */
    boolean update(ProducerEntry before, ProducerEntry after) {
        long wasOpen = before == null ? ProducerEntry.NONE : before.txnFirstOffset();
        long isOpen = after == null ? ProducerEntry.NONE : after.txnFirstOffset();
        if (wasOpen == isOpen) {
            return false;
        }
        if (wasOpen != ProducerEntry.NONE) {
            if (after != null && isOpen == ProducerEntry.NONE && after.lastTxnFirstOffset() == wasOpen) {
                spans.put(wasOpen, after.lastTxnEndOffset()); // ended by a marker
            } else {
                spans.remove(wasOpen); // truncated away
            }
        }
        if (isOpen != ProducerEntry.NONE) {
            spans.put(isOpen, Long.MAX_VALUE);
        }
        return true;
    }

    /**
     * The log was cut at {@code offset}: transactions that began there are gone, and ended ones whose marker went are
     * no longer ended (their producers' entries, updated next, open them again).
     */
    void truncate(long offset) {
        spans.tailMap(offset, true).clear();
        spans.values().removeIf(end -> end != Long.MAX_VALUE && end >= offset);
    }

    boolean isEmpty() {
        return spans.isEmpty();
    }

    /** Forgets ended transactions whose marker is below {@code highWatermark}: they no longer hold anything back. */
    void prune(long highWatermark) {
        spans.values().removeIf(end -> end < highWatermark);
    }

    void clear() {
        spans.clear();
    }

    /** The smallest first offset of an open transaction other than the one opened at {@code except}, or {@code orElse}. */
    long firstOpenExcept(long except, long orElse) {
        for (Map.Entry<Long, Long> e : spans.entrySet()) {
            if (e.getValue() == Long.MAX_VALUE && e.getKey() != except) {
                return e.getKey();
            }
        }
        return orElse;
    }

    long[] snapshot() {
        if (spans.isEmpty()) {
            return NONE;
        }
        long[] out = new long[spans.size() * 2];
        int i = 0;
        for (Map.Entry<Long, Long> e : spans.entrySet()) {
            out[i++] = e.getKey();
            out[i++] = e.getValue();
        }
        return out;
    }

    /** The LSO: the high watermark, or below it the first offset of the first transaction not ended below it. */
    static long lastStableOffset(long[] snapshot, long highWatermark) {
        for (int i = 0; i < snapshot.length; i += 2) {
            if (snapshot[i] >= highWatermark) {
                break;
            }
            if (snapshot[i + 1] >= highWatermark) {
                return snapshot[i];
            }
        }
        return highWatermark;
    }
}
