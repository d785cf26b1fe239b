package io.capstan.broker.log;

import java.nio.ByteBuffer;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;

/** A transaction's end in one shard: Kafka's control batch with a COMMIT or ABORT record, written by the coordinator. */
public record TxnMarker(boolean commit, int coordinatorEpoch) {

    /** The control batch for this marker, offsets unstamped (the committer stamps them). */
    public byte[] batch(long producerId, short producerEpoch, long timestamp) {
        MemoryRecords records = MemoryRecords.withEndTransactionMarker(0L, timestamp, RecordBatch.NO_PARTITION_LEADER_EPOCH,
                producerId, producerEpoch, new EndTransactionMarker(commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT, coordinatorEpoch));
        ByteBuffer buf = records.buffer();
        byte[] out = new byte[buf.remaining()];
        buf.get(out);
        return out;
    }

    /** The marker a control batch holds, or null for another control record (Kafka's KRaft ones never reach a shard). */
    public static TxnMarker read(byte[] batch) {
        for (RecordBatch b : MemoryRecords.readableRecords(ByteBuffer.wrap(batch)).batches()) {
            for (Record r : b) {
                ControlRecordType type = ControlRecordType.parse(r.key());
                if (type == ControlRecordType.COMMIT || type == ControlRecordType.ABORT) {
                    return new TxnMarker(type == ControlRecordType.COMMIT, EndTransactionMarker.deserialize(r).coordinatorEpoch());
                }
            }
        }
        return null;
    }
}
