package io.capstan.broker.log;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecords.RecordFilter;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.internals.CloseableIterator;
import org.apache.kafka.common.utils.internals.BufferSupplier;

/**
 * Compaction of one stored batch, with Kafka's rules and Kafka's own record code (compressed batches included): a
 * record stays if no later record of its key is in the map (which covers every offset up to the end of the pass, so
 * only batches below that end may be given); a tombstone (a key without a value) stays until the delete
 * horizon that the first cleaning stamped into its batch (KIP-534: the batch's base timestamp becomes
 * now + delete.retention.ms, and a flag says so); records without a key go; control batches stay. A rewritten batch
 * keeps its base and last offset, so offsets are never renumbered and the producer's last sequence stays readable.
 * Pure: the same batch, map and clock give the same bytes.
 */
final class BatchCompactor {
    /** Returned when the batch is to be deleted: none of its records stays. */
    static final byte[] REMOVED = new byte[0];

    private BatchCompactor() {}

    /** Adds every keyed record of a data batch to the map; false if a new key did not fit (the map is then partly filled). */
    static boolean index(byte[] batch, KeyOffsetMap map) {
        for (MutableRecordBatch b : MemoryRecords.readableRecords(ByteBuffer.wrap(batch)).batches()) {
            if (b.isControlBatch()) {
                continue;
            }
            try (CloseableIterator<Record> records = b.streamingIterator(BufferSupplier.NO_CACHING)) {
                while (records.hasNext()) {
                    Record r = records.next();
                    if (r.hasKey() && !map.put(r.key(), r.offset())) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /** The batch as it is after compaction: null if unchanged, {@link #REMOVED} if nothing stays, else the new bytes. */
    static byte[] compact(byte[] batch, KeyOffsetMap map, long nowMs, long deleteRetentionMs) {
        MemoryRecords records = MemoryRecords.readableRecords(ByteBuffer.wrap(batch));
        MemoryRecords.FilterResult result = records.filterTo(new Filter(map, nowMs, deleteRetentionMs),
                ByteBuffer.allocate(batch.length), BufferSupplier.NO_CACHING, Integer.MAX_VALUE);
        ByteBuffer out = result.outputBuffer();
        out.flip();
        if (out.remaining() == 0) {
            return REMOVED;
        }
        byte[] bytes = new byte[out.remaining()];
        out.get(bytes);
        return Arrays.equals(bytes, batch) ? null : bytes;
    }

    private static final class Filter extends RecordFilter {
        private final KeyOffsetMap map;

        Filter(KeyOffsetMap map, long nowMs, long deleteRetentionMs) {
            super(nowMs, deleteRetentionMs);
            this.map = map;
        }

        @Override
        protected BatchRetentionResult checkBatchRetention(RecordBatch batch) {
            return new BatchRetentionResult(BatchRetention.DELETE_EMPTY, false);
        }

        @Override
        protected boolean shouldRetainRecord(RecordBatch batch, Record record) {
            if (batch.isControlBatch()) {
                return true;
            }
            if (!record.hasKey()) {
                return false;
            }
            boolean latest = record.offset() >= map.get(record.key());
            boolean tombstoneDue = !record.hasValue() && batch.deleteHorizonMs().isPresent() && currentTime >= batch.deleteHorizonMs().getAsLong();
            return latest && !tombstoneDue;
        }
    }
}
