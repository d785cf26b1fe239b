package io.capstan.broker.kafka;

import io.capstan.broker.log.EpochHistory;
import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import io.capstan.broker.replica.Replication;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.EpochEndOffset;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.acl.AclOperation;

/**
 * OffsetForLeaderEpoch: where a leader epoch ends in the leader's log. Followers ask it before fetching, to truncate
 * what a deposed leader wrote; consumers ask it after a leader change, to detect that their position was truncated.
 */
public final class OffsetForLeaderEpochHandler implements ApiHandler {
    private final LogManager logs;
    private final Replication replication;

    public OffsetForLeaderEpochHandler(LogManager logs, Replication replication) {
        this.logs = logs;
        this.replication = replication;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        OffsetForLeaderEpochRequestData request = (OffsetForLeaderEpochRequestData) message;
        OffsetForLeaderEpochResponseData response = new OffsetForLeaderEpochResponseData();
        boolean fromReplica = request.replicaId() >= 0;
        for (OffsetForLeaderEpochRequestData.OffsetForLeaderTopic topic : request.topics()) {
            // followers need ClusterAction, consumers (truncation checks) DESCRIBE on the topic, as in Kafka
            boolean authorized = fromReplica ? context.allowedOnCluster(AclOperation.CLUSTER_ACTION)
                    : context.allowedOnTopic(AclOperation.DESCRIBE, topic.topic());
            OffsetForLeaderTopicResult tr = new OffsetForLeaderTopicResult().setTopic(topic.topic());
            response.topics().add(tr);
            for (OffsetForLeaderEpochRequestData.OffsetForLeaderPartition p : topic.partitions()) {
                EpochEndOffset out = new EpochEndOffset().setPartition(p.partition())
                        .setLeaderEpoch(EpochHistory.UNDEFINED_EPOCH).setEndOffset(EpochHistory.UNDEFINED_OFFSET);
                tr.partitions().add(out);
                Shard shard = logs.catalog().shard(new TopicPartition(topic.topic(), p.partition()));
                Errors error = !authorized ? (fromReplica ? Errors.CLUSTER_AUTHORIZATION_FAILED : Errors.TOPIC_AUTHORIZATION_FAILED)
                        : shard == null ? Errors.UNKNOWN_TOPIC_OR_PARTITION : replication.checkLeaderEpoch(shard, p.currentLeaderEpoch());
                if (error != Errors.NONE) {
                    out.setErrorCode(error.code());
                    continue;
                }
                EpochHistory.EpochEnd end = shard.epochs().endOf(p.leaderEpoch(), shard.logEnd());
                out.setLeaderEpoch(end.epoch()).setEndOffset(end.endOffset());
            }
        }
        return CompletableFuture.completedFuture(response);
    }
}
