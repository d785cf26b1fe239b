package io.capstan.e2e;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What consumers were given, offset by offset, for the history checks a count cannot make: an offset never handed out
 * with two different records (a record read and later replaced), and every record read being the one the producer
 * was told is at that offset, so no consumer saw a write that the log later lost. Compact (a sequence number per
 * offset per shard), so a 30-minute soak's millions of reads fit. Thread-safe.
 */
final class ConsumedHistory {
    private final long[][] seqPlusOne;
    private final List<String> conflicts = new ArrayList<>();

    ConsumedHistory(int partitions) {
        seqPlusOne = new long[partitions][1 << 16];
    }

    /** A consumer was given {@code seq} at {@code offset} of {@code partition}. */
    synchronized void consumed(int partition, long offset, long seq) {
        long[] slots = seqPlusOne[partition];
        if (offset >= slots.length) {
            slots = Arrays.copyOf(slots, (int) Math.max(offset + 1, (long) slots.length * 2));
            seqPlusOne[partition] = slots;
        }
        int i = (int) offset;
        if (slots[i] == 0) {
            slots[i] = seq + 1;
        } else if (slots[i] != seq + 1 && conflicts.size() < 100) {
            conflicts.add(String.format("partition %d offset %d was read as record %d and as record %d", partition, offset, slots[i] - 1, seq));
        }
    }

    /** Offsets that were read with two different records (empty when the log never changed under a consumer). */
    synchronized List<String> conflicts() {
        return List.copyOf(conflicts);
    }

    /**
     * Each record read, checked against where its producer was told it is (every record sent was acknowledged, and each
     * acknowledged one was found at its offset by the final read); returns how many offsets were checked and adds a
     * line for each that disagrees to {@code mismatches}.
     */
    synchronized long checkAgainst(Map<Long, AcknowledgedRecords.Ack> acknowledged, List<String> mismatches) {
        long checked = 0;
        for (int p = 0; p < seqPlusOne.length; p++) {
            long[] slots = seqPlusOne[p];
            for (int offset = 0; offset < slots.length; offset++) {
                if (slots[offset] == 0) {
                    continue;
                }
                long seq = slots[offset] - 1;
                AcknowledgedRecords.Ack ack = acknowledged.get(seq);
                // offset -1: the producer was told of a retry the log already held (DUPLICATE_SEQUENCE_NUMBER) without
                // its offset; then only its partition can be compared (the final read finds the record there once)
                boolean offsetKnown = ack != null && ack.offset() >= 0;
                if (ack == null || ack.partition() != p || (offsetKnown && ack.offset() != offset)) {
                    if (mismatches.size() < 100) {
                        mismatches.add(String.format("partition %d offset %d was read as record %d, which the producer was told is at %s",
                                p, offset, seq, ack == null ? "no offset (never acknowledged)" : ack.partition() + "@" + ack.offset()));
                    }
                }
                checked++;
            }
        }
        return checked;
    }
}
