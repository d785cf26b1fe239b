package io.capstan.broker.kafka;

import java.util.List;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.RecordsSend;

/**
 * A fetch answer's record batches as the log holds them, one array each: the response encoder writes them into the
 * outgoing frame one after another, so a fetch of many batches costs no concatenated heap copy (it was a fifth of a
 * replicating cluster's allocation). The arrays are the log's and must not be changed.
 */
public final class BatchRecords implements BaseRecords {
    private final List<byte[]> batches;
    private final int sizeInBytes;

    public BatchRecords(List<byte[]> batches, int sizeInBytes) {
        this.batches = List.copyOf(batches);
        this.sizeInBytes = sizeInBytes;
    }

    public List<byte[]> batches() {
        return batches;
    }

    @Override
    public int sizeInBytes() {
        return sizeInBytes;
    }

    /** Not used: the broker writes responses itself (io.capstan.broker.net.ResponseEncoder), never through a client's Send. */
    @Override
    public RecordsSend<? extends BaseRecords> toSend() {
        throw new UnsupportedOperationException("BatchRecords are written by the broker's response encoder");
    }

    @Override
    public String toString() {
        return "BatchRecords(" + batches.size() + " batches, " + sizeInBytes + " bytes)";
    }
}
