package io.capstan.broker.log;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * What a shard remembers of one idempotent producer: its epoch and its last five batches (Kafka keeps five too,
 * matching max.in.flight.requests.per.connection), newest last. Immutable: an append builds a new entry, so a
 * failed group commit simply drops its entries.
 */
public final class ProducerEntry {
    public static final int MAX_BATCHES = 5;
    private static final int BATCH_BYTES = 4 + 4 + 8 + 4;

    private final short epoch;
    private final int[] firstSeqs;
    private final int[] lastSeqs;
    private final long[] baseOffsets;
    private final int[] lastOffsetDeltas;
    private final long lastTimestamp;

    private ProducerEntry(short epoch, int[] firstSeqs, int[] lastSeqs, long[] baseOffsets, int[] lastOffsetDeltas,
                          long lastTimestamp) {
        this.epoch = epoch;
        this.firstSeqs = firstSeqs;
        this.lastSeqs = lastSeqs;
        this.baseOffsets = baseOffsets;
        this.lastOffsetDeltas = lastOffsetDeltas;
        this.lastTimestamp = lastTimestamp;
    }

    public static ProducerEntry first(short epoch, int firstSeq, int lastSeq, long baseOffset, int lastOffsetDelta,
                                      long timestamp) {
        return new ProducerEntry(epoch, new int[] {firstSeq}, new int[] {lastSeq}, new long[] {baseOffset},
                new int[] {lastOffsetDelta}, timestamp);
    }

    /** This entry with one more batch; a new epoch forgets the old epoch's batches. */
    public ProducerEntry append(short newEpoch, int firstSeq, int lastSeq, long baseOffset, int lastOffsetDelta,
                                long timestamp) {
        if (newEpoch != epoch) {
            return first(newEpoch, firstSeq, lastSeq, baseOffset, lastOffsetDelta, timestamp);
        }
        int n = Math.min(size() + 1, MAX_BATCHES);
        int drop = size() + 1 - n;
        int[] f = new int[n];
        int[] l = new int[n];
        long[] b = new long[n];
        int[] d = new int[n];
        int kept = n - 1;
        System.arraycopy(firstSeqs, drop, f, 0, kept);
        System.arraycopy(lastSeqs, drop, l, 0, kept);
        System.arraycopy(baseOffsets, drop, b, 0, kept);
        System.arraycopy(lastOffsetDeltas, drop, d, 0, kept);
        f[kept] = firstSeq;
        l[kept] = lastSeq;
        b[kept] = baseOffset;
        d[kept] = lastOffsetDelta;
        return new ProducerEntry(epoch, f, l, b, d, timestamp);
    }

    /** This entry without the batches at or after {@code offset} (the log was truncated there), or null if none is left. */
    public ProducerEntry truncatedTo(long offset) {
        int keep = 0;
        while (keep < baseOffsets.length && baseOffsets[keep] < offset) {
            keep++;
        }
        if (keep == 0) {
            return null;
        }
        if (keep == baseOffsets.length) {
            return this;
        }
        return new ProducerEntry(epoch, Arrays.copyOf(firstSeqs, keep), Arrays.copyOf(lastSeqs, keep),
                Arrays.copyOf(baseOffsets, keep), Arrays.copyOf(lastOffsetDeltas, keep), lastTimestamp);
    }

    public short epoch() { return epoch; }
    public int size() { return firstSeqs.length; }
    public int lastSequence() { return lastSeqs[lastSeqs.length - 1]; }
    public long lastTimestamp() { return lastTimestamp; }

    /** Base offset of an earlier batch with exactly these sequences, or -1. */
    public long duplicateOf(int firstSeq, int lastSeq) {
        for (int i = 0; i < firstSeqs.length; i++) {
            if (firstSeqs[i] == firstSeq && lastSeqs[i] == lastSeq) {
                return baseOffsets[i];
            }
        }
        return -1;
    }

    public byte[] encode() {
        ByteBuffer buf = ByteBuffer.allocate(2 + 8 + 1 + size() * BATCH_BYTES);
        buf.putShort(epoch).putLong(lastTimestamp).put((byte) size());
        for (int i = 0; i < size(); i++) {
            buf.putInt(firstSeqs[i]).putInt(lastSeqs[i]).putLong(baseOffsets[i]).putInt(lastOffsetDeltas[i]);
        }
        return buf.array();
    }

    public static ProducerEntry decode(byte[] bytes) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        short epoch = buf.getShort();
        long ts = buf.getLong();
        int n = buf.get();
        int[] f = new int[n];
        int[] l = new int[n];
        long[] b = new long[n];
        int[] d = new int[n];
        for (int i = 0; i < n; i++) {
            f[i] = buf.getInt();
            l[i] = buf.getInt();
            b[i] = buf.getLong();
            d[i] = buf.getInt();
        }
        return new ProducerEntry(epoch, f, l, b, d, ts);
    }

    /** Epoch and the cached batches as firstSeq-lastSeq@baseOffset: what an OUT_OF_ORDER answer is judged against. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("epoch ").append(epoch).append(" batches [");
        for (int i = 0; i < firstSeqs.length; i++) {
            b.append(i == 0 ? "" : ", ").append(firstSeqs[i]).append('-').append(lastSeqs[i]).append('@').append(baseOffsets[i]);
        }
        return b.append(']').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ProducerEntry e && e.epoch == epoch && e.lastTimestamp == lastTimestamp
                && Arrays.equals(e.firstSeqs, firstSeqs) && Arrays.equals(e.lastSeqs, lastSeqs)
                && Arrays.equals(e.baseOffsets, baseOffsets) && Arrays.equals(e.lastOffsetDeltas, lastOffsetDeltas);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(baseOffsets) * 31 + epoch;
    }
}
