package io.capstan.broker.log;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * What a shard remembers of one producer: its epoch, its last five batches (Kafka keeps five too, matching
 * max.in.flight.requests.per.connection), newest last, and its transactions here: where the open one began, and
 * where the last one began and was ended by a marker (so that a truncation above that marker opens it again).
 * Immutable: an append builds a new entry, so a failed group commit simply drops its entries.
 */
public final class ProducerEntry {
    public static final int MAX_BATCHES = 5;
    private static final int BATCH_BYTES = 4 + 4 + 8 + 4;
    private static final int TXN_BYTES = 8 + 8 + 8 + 4;
    /** No transaction open (or no last one known). */
    public static final long NONE = -1;

    private final short epoch;
    private final int[] firstSeqs;
    private final int[] lastSeqs;
    private final long[] baseOffsets;
    private final int[] lastOffsetDeltas;
    private final long lastTimestamp;
    private final long txnFirstOffset;
    private final long lastTxnFirstOffset;
    private final long lastTxnEndOffset;
    private final int coordinatorEpoch;

    private ProducerEntry(short epoch, int[] firstSeqs, int[] lastSeqs, long[] baseOffsets, int[] lastOffsetDeltas,
                          long lastTimestamp, long txnFirstOffset, long lastTxnFirstOffset, long lastTxnEndOffset, int coordinatorEpoch) {
        this.epoch = epoch;
        this.firstSeqs = firstSeqs;
        this.lastSeqs = lastSeqs;
        this.baseOffsets = baseOffsets;
        this.lastOffsetDeltas = lastOffsetDeltas;
        this.lastTimestamp = lastTimestamp;
        this.txnFirstOffset = txnFirstOffset;
        this.lastTxnFirstOffset = lastTxnFirstOffset;
        this.lastTxnEndOffset = lastTxnEndOffset;
        this.coordinatorEpoch = coordinatorEpoch;
    }

    public static ProducerEntry first(short epoch, int firstSeq, int lastSeq, long baseOffset, int lastOffsetDelta,
                                      long timestamp) {
        return new ProducerEntry(epoch, new int[] {firstSeq}, new int[] {lastSeq}, new long[] {baseOffset},
                new int[] {lastOffsetDelta}, timestamp, NONE, NONE, NONE, -1);
    }

    /** A producer this shard has seen only a transaction marker of. */
    static ProducerEntry withoutBatches(short epoch, long timestamp) {
        return new ProducerEntry(epoch, new int[0], new int[0], new long[0], new int[0], timestamp, NONE, NONE, NONE, -1);
    }

    /** This entry with one more batch; a new epoch forgets the old epoch's batches (sequences restart), not its transactions. */
    public ProducerEntry append(short newEpoch, int firstSeq, int lastSeq, long baseOffset, int lastOffsetDelta,
                                long timestamp) {
        if (newEpoch != epoch) {
            return new ProducerEntry(newEpoch, new int[] {firstSeq}, new int[] {lastSeq}, new long[] {baseOffset},
                    new int[] {lastOffsetDelta}, timestamp, txnFirstOffset, lastTxnFirstOffset, lastTxnEndOffset, coordinatorEpoch);
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
        return new ProducerEntry(epoch, f, l, b, d, timestamp, txnFirstOffset, lastTxnFirstOffset, lastTxnEndOffset, coordinatorEpoch);
    }

    /** This entry in {@code newEpoch}: unchanged if it is the current one, else without batches (sequences restart). */
    public ProducerEntry inEpoch(short newEpoch) {
        if (newEpoch == epoch) {
            return this;
        }
        return new ProducerEntry(newEpoch, new int[0], new int[0], new long[0], new int[0], lastTimestamp, txnFirstOffset,
                lastTxnFirstOffset, lastTxnEndOffset, coordinatorEpoch);
    }

    /** This entry with a transaction open from {@code offset}, unless one is open already. */
    public ProducerEntry inTransaction(long offset) {
        if (txnFirstOffset != NONE) {
            return this;
        }
        return new ProducerEntry(epoch, firstSeqs, lastSeqs, baseOffsets, lastOffsetDeltas, lastTimestamp, offset,
                lastTxnFirstOffset, lastTxnEndOffset, coordinatorEpoch);
    }

    /**
     * This entry after a transaction marker at {@code markerOffset} in {@code markerEpoch} (KIP-890: a bumped epoch, in
     * which the producer's sequences restart): the open transaction, if any, becomes the last one.
     */
    public ProducerEntry ended(short markerEpoch, long markerOffset, int markerCoordinatorEpoch, long timestamp) {
        boolean sameEpoch = markerEpoch == epoch;
        long lastFirst = txnFirstOffset != NONE ? txnFirstOffset : lastTxnFirstOffset;
        long lastEnd = txnFirstOffset != NONE ? markerOffset : lastTxnEndOffset;
        return new ProducerEntry(markerEpoch, sameEpoch ? firstSeqs : new int[0], sameEpoch ? lastSeqs : new int[0],
                sameEpoch ? baseOffsets : new long[0], sameEpoch ? lastOffsetDeltas : new int[0], Math.max(lastTimestamp, timestamp),
                NONE, lastFirst, lastEnd, markerCoordinatorEpoch);
    }

    /**
     * This entry without what lay at or after {@code offset} (the log was truncated there), or null if nothing is left:
     * batches go; a transaction that began there is gone; the last one, if its marker went, is open again. A
     * truncation below the last transaction's start leaves whatever was before it unknown; no transaction is then
     * open, which is what a replica that never saw this producer would hold too.
     */
    public ProducerEntry truncatedTo(long offset) {
        int keep = 0;
        while (keep < baseOffsets.length && baseOffsets[keep] < offset) {
            keep++;
        }
        long open = txnFirstOffset != NONE && txnFirstOffset < offset ? txnFirstOffset : NONE;
        long lastFirst = lastTxnFirstOffset;
        long lastEnd = lastTxnEndOffset;
        if (lastEnd != NONE && lastEnd >= offset) {
            if (open == NONE && lastFirst < offset) {
                open = lastFirst;
            }
            lastFirst = NONE;
            lastEnd = NONE;
        }
        if (keep == 0 && open == NONE && lastEnd == NONE) {
            return null;
        }
        if (keep == baseOffsets.length && open == txnFirstOffset && lastEnd == lastTxnEndOffset) {
            return this;
        }
        return new ProducerEntry(epoch, Arrays.copyOf(firstSeqs, keep), Arrays.copyOf(lastSeqs, keep),
                Arrays.copyOf(baseOffsets, keep), Arrays.copyOf(lastOffsetDeltas, keep), lastTimestamp, open, lastFirst, lastEnd,
                coordinatorEpoch);
    }

    public short epoch() { return epoch; }
    /** Batches remembered; none for a producer seen only through a marker or truncated back to its transaction. */
    public int size() { return firstSeqs.length; }
    /** The last sequence written, or -1 when no batch is remembered. */
    public int lastSequence() { return size() == 0 ? -1 : lastSeqs[lastSeqs.length - 1]; }
    public long lastTimestamp() { return lastTimestamp; }
    /** Where this producer's open transaction began here, or {@link #NONE}. */
    public long txnFirstOffset() { return txnFirstOffset; }
    long lastTxnFirstOffset() { return lastTxnFirstOffset; }
    long lastTxnEndOffset() { return lastTxnEndOffset; }
    /** The coordinator epoch of the last marker (-1: none), which a marker from a deposed coordinator must not undercut. */
    public int coordinatorEpoch() { return coordinatorEpoch; }

    /** Base offset of an earlier batch with exactly these sequences, or -1. */
    public long duplicateOf(int firstSeq, int lastSeq) {
        for (int i = 0; i < firstSeqs.length; i++) {
            if (firstSeqs[i] == firstSeq && lastSeqs[i] == lastSeq) {
                return baseOffsets[i];
            }
        }
        return -1;
    }

    /** Batches, then the transaction fields (entries written before transactions existed lack them: none open). */
    public byte[] encode() {
        ByteBuffer buf = ByteBuffer.allocate(2 + 8 + 1 + size() * BATCH_BYTES + TXN_BYTES);
        buf.putShort(epoch).putLong(lastTimestamp).put((byte) size());
        for (int i = 0; i < size(); i++) {
            buf.putInt(firstSeqs[i]).putInt(lastSeqs[i]).putLong(baseOffsets[i]).putInt(lastOffsetDeltas[i]);
        }
        buf.putLong(txnFirstOffset).putLong(lastTxnFirstOffset).putLong(lastTxnEndOffset).putInt(coordinatorEpoch);
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
        if (buf.remaining() < TXN_BYTES) {
            return new ProducerEntry(epoch, f, l, b, d, ts, NONE, NONE, NONE, -1);
        }
        return new ProducerEntry(epoch, f, l, b, d, ts, buf.getLong(), buf.getLong(), buf.getLong(), buf.getInt());
    }

    /** Epoch, the cached batches as firstSeq-lastSeq@baseOffset and any open transaction: what an error is judged against. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("epoch ").append(epoch).append(" batches [");
        for (int i = 0; i < firstSeqs.length; i++) {
            b.append(i == 0 ? "" : ", ").append(firstSeqs[i]).append('-').append(lastSeqs[i]).append('@').append(baseOffsets[i]);
        }
        b.append(']');
        if (txnFirstOffset != NONE) {
            b.append(" transaction open from ").append(txnFirstOffset);
        }
        return b.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ProducerEntry e && e.epoch == epoch && e.lastTimestamp == lastTimestamp
                && Arrays.equals(e.firstSeqs, firstSeqs) && Arrays.equals(e.lastSeqs, lastSeqs)
                && Arrays.equals(e.baseOffsets, baseOffsets) && Arrays.equals(e.lastOffsetDeltas, lastOffsetDeltas)
                && e.txnFirstOffset == txnFirstOffset && e.lastTxnFirstOffset == lastTxnFirstOffset
                && e.lastTxnEndOffset == lastTxnEndOffset && e.coordinatorEpoch == coordinatorEpoch;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(baseOffsets) * 31 + epoch;
    }
}
