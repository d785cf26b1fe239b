package io.capstan.broker.log;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;

/**
 * Reads a coordinator's shard from its log start to its end, batch by batch, as a new leader loads it: the whole log
 * of a replicated shard (a new leader's log is the committed history: followers are truncated to it), else up to the
 * high watermark. A batch may begin below the log start (DeleteRecords inside it): its records below are to be skipped.
 */
public final class ShardReplay {
    /** Sees each stored batch in offset order, with its bytes (a control batch's marker is read from them). */
    public interface Visitor {
        void batch(RecordBatch batch, byte[] bytes);
    }

    private ShardReplay() {}

    public static void replay(LogManager logs, Shard shard, Visitor visitor) {
        long offset = shard.logStartOffset();
        List<byte[]> batches = new ArrayList<>();
        long end = shard.replicated() ? shard.logEnd() : shard.highWatermark();
        while (offset < end) {
            batches.clear();
            logs.reader().readCopies(shard, offset, end, 8 << 20, true, batches);
            if (batches.isEmpty()) {
                break;
            }
            for (byte[] bytes : batches) {
                for (RecordBatch batch : MemoryRecords.readableRecords(ByteBuffer.wrap(bytes)).batches()) {
                    visitor.batch(batch, bytes);
                    offset = batch.nextOffset();
                }
            }
        }
    }
}
