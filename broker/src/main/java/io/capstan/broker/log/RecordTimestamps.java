package io.capstan.broker.log;

import java.nio.ByteBuffer;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;

/** Looks inside one batch (decompressing if needed) for timestamp lookups; only ListOffsets pays for this. */
final class RecordTimestamps {
    private RecordTimestamps() {}

    static long[] firstAtOrAfter(byte[] batchBytes, long timestamp) {
        for (RecordBatch batch : MemoryRecords.readableRecords(ByteBuffer.wrap(batchBytes)).batches()) {
            for (Record r : batch) {
                if (r.timestamp() >= timestamp) {
                    return new long[] {r.offset(), r.timestamp()};
                }
            }
        }
        return null;
    }

    static long[] offsetOfMax(byte[] batchBytes) {
        long[] best = null;
        for (RecordBatch batch : MemoryRecords.readableRecords(ByteBuffer.wrap(batchBytes)).batches()) {
            for (Record r : batch) {
                if (best == null || r.timestamp() > best[1]) {
                    best = new long[] {r.offset(), r.timestamp()};
                }
            }
        }
        return best;
    }
}
