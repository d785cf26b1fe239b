package io.capstan.broker.kafka;

import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsPartitionResponse;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsTopicResponse;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.acl.AclOperation;

/** ListOffsets: earliest, latest (the high watermark), max timestamp, and the first offset at or after a timestamp. */
public final class ListOffsetsHandler implements ApiHandler {
    static final long LATEST = -1;
    static final long EARLIEST = -2;
    static final long MAX_TIMESTAMP = -3;
    static final long EARLIEST_LOCAL = -4;
    static final long EARLIEST_PENDING_UPLOAD = -5;
    static final long LATEST_TIERED = -6;
    private static final short LEADER_EPOCH_VERSION = 4;

    private final LogManager logs;
    private final io.capstan.broker.replica.Replication replication;

    public ListOffsetsHandler(LogManager logs, io.capstan.broker.replica.Replication replication) {
        this.logs = logs;
        this.replication = replication;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        ListOffsetsRequestData request = (ListOffsetsRequestData) message;
        ListOffsetsResponseData response = new ListOffsetsResponseData();
        for (ListOffsetsRequestData.ListOffsetsTopic topic : request.topics()) {
            ListOffsetsTopicResponse tr = new ListOffsetsTopicResponse().setName(topic.name());
            response.topics().add(tr);
            boolean authorized = context.allowedOnTopic(AclOperation.DESCRIBE, topic.name());
            for (ListOffsetsRequestData.ListOffsetsPartition p : topic.partitions()) {
                Shard shard = logs.catalog().shard(new TopicPartition(topic.name(), p.partitionIndex()));
                Errors refused = !authorized ? Errors.TOPIC_AUTHORIZATION_FAILED
                        : shard == null ? Errors.UNKNOWN_TOPIC_OR_PARTITION : replication.canServeConsumers(shard);
                if (refused == Errors.NONE) {
                    refused = replication.checkLeaderEpoch(shard, p.currentLeaderEpoch());
                }
                tr.partitions().add(refused != Errors.NONE
                        ? new ListOffsetsPartitionResponse().setPartitionIndex(p.partitionIndex())
                                .setErrorCode(refused.code()).setOffset(-1).setTimestamp(-1)
                        : lookup(shard, p, context.version(), request.isolationLevel() == org.apache.kafka.common.IsolationLevel.READ_COMMITTED.id()));
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    /** {@code readCommitted}: the latest offset is the last stable one, as a read_committed consumer's end (KIP-98). */
    private ListOffsetsPartitionResponse lookup(Shard shard, ListOffsetsRequestData.ListOffsetsPartition p, short version, boolean readCommitted) {
        ListOffsetsPartitionResponse r = new ListOffsetsPartitionResponse().setPartitionIndex(p.partitionIndex()).setTimestamp(-1);
        if (version >= LEADER_EPOCH_VERSION) {
            r.setLeaderEpoch(shard.leaderEpoch());
        }
        long ts = p.timestamp();
        if (ts == LATEST || ts == LATEST_TIERED) {
            long latest = readCommitted ? Math.min(shard.lastStableOffset(), shard.highWatermark()) : shard.highWatermark();
            return r.setOffset(ts == LATEST ? latest : -1);
        }
        if (ts == EARLIEST || ts == EARLIEST_LOCAL) {
            return r.setOffset(shard.logStartOffset());
        }
        if (ts == EARLIEST_PENDING_UPLOAD) {
            return r.setOffset(-1);
        }
        long[] found;
        if (ts == MAX_TIMESTAMP) {
            found = logs.reader().maxTimestamp(shard);
        } else if (ts >= 0) {
            found = logs.reader().offsetForTimestamp(shard, ts);
        } else {
            return r.setErrorCode(Errors.INVALID_REQUEST.code()).setOffset(-1);
        }
        return found == null ? r.setOffset(-1) : r.setOffset(found[0]).setTimestamp(found[1]);
    }
}
