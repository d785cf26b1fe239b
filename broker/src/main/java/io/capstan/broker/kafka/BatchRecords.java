package io.capstan.broker.kafka;

import io.capstan.broker.log.ShardTraffic;
import io.netty.buffer.ByteBuf;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCountUtil;
import java.util.List;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.RecordsSend;

/**
 * A fetch answer's records as the log handed them out: whole batches, each a buffer of the log's own (the tail cache's,
 * or one read from the store), written into the response frame by the broker's encoder without an intermediate copy.
 * It holds a reference to each batch, so it is reference counted itself: whoever drops the answer (the encoder once
 * it wrote it, a fetch that waits on, a quota that empties it) releases it exactly once.
 */
public final class BatchRecords extends AbstractReferenceCounted implements BaseRecords {
    private final List<ByteBuf> batches;
    private final int sizeInBytes;
    /** Where the bytes count as consumed once they are written into an answer, or null (a follower's fetch). */
    private final ShardTraffic consumedFrom;

    /** Takes over the caller's reference to each batch. */
    public BatchRecords(List<ByteBuf> batches, int sizeInBytes, ShardTraffic consumedFrom) {
        this.batches = List.copyOf(batches);
        this.sizeInBytes = sizeInBytes;
        this.consumedFrom = consumedFrom;
    }

    /**
     * The encoder wrote these records into a response: only now are they consumed (a fetch whose records a quota
     * dropped, or whose connection closed first, moved nothing).
     */
    public void written() {
        if (consumedFrom != null) {
            consumedFrom.consumed(sizeInBytes);
        }
    }

    public List<ByteBuf> batches() {
        return batches;
    }

    @Override
    public int sizeInBytes() {
        return sizeInBytes;
    }

    @Override
    protected void deallocate() {
        batches.forEach(ByteBuf::release);
    }

    @Override
    public BatchRecords touch(Object hint) {
        return this;
    }

    /** Releases the records of every partition of an answer that will not be written. */
    public static void releaseAll(FetchResponseData response) {
        for (FetchResponseData.FetchableTopicResponse topic : response.responses()) {
            for (FetchResponseData.PartitionData partition : topic.partitions()) {
                ReferenceCountUtil.release(partition.records());
            }
        }
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
