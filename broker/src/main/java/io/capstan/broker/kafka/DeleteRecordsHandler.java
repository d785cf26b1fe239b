package io.capstan.broker.kafka;

import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import io.capstan.broker.replica.Replication;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.message.DeleteRecordsResponseData.DeleteRecordsPartitionResult;
import org.apache.kafka.common.message.DeleteRecordsResponseData.DeleteRecordsTopicResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DeleteRecords ({@code kafka-delete-records}, {@code Admin.deleteRecords}; Kafka Streams purges its repartition
 * topics with it): the leader moves a shard's log start to the offset asked (-1: the high watermark), and answers
 * once every in-sync replica's log starts there too (the low watermark, as Kafka waits for it) or the request's
 * timeout passes (REQUEST_TIMED_OUT; the deletion still completes). Offsets past the high watermark are
 * OFFSET_OUT_OF_RANGE; asking for an offset below the current start deletes nothing and answers the start.
 */
public final class DeleteRecordsHandler implements ApiHandler {
    private static final long POLL_MS = 20;

    private final LogManager logs;
    private final Replication replication;
    private final Executor controlRequests;

    public DeleteRecordsHandler(LogManager logs, Replication replication, Executor controlRequests) {
        this.logs = logs;
        this.replication = replication;
        this.controlRequests = controlRequests;
    }

    private record Pending(DeleteRecordsPartitionResult result, Shard shard, long offset) {}

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        DeleteRecordsRequestData request = (DeleteRecordsRequestData) message;
        return CompletableFuture.supplyAsync(() -> {
            DeleteRecordsResponseData response = new DeleteRecordsResponseData();
            List<Pending> pending = new ArrayList<>();
            for (DeleteRecordsRequestData.DeleteRecordsTopic topic : request.topics()) {
                DeleteRecordsTopicResult topicResult = new DeleteRecordsTopicResult().setName(topic.name());
                response.topics().add(topicResult);
                boolean allowed = context.allowedOnTopic(AclOperation.DELETE, topic.name());
                for (DeleteRecordsRequestData.DeleteRecordsPartition p : topic.partitions()) {
                    DeleteRecordsPartitionResult result = new DeleteRecordsPartitionResult().setPartitionIndex(p.partitionIndex()).setLowWatermark(-1);
                    topicResult.partitions().add(result);
                    Errors refused = !allowed ? Errors.TOPIC_AUTHORIZATION_FAILED : start(topic.name(), p, result, pending);
                    result.setErrorCode(refused.code());
                }
            }
            return new Waiting(response, pending, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, request.timeoutMs())));
        }, controlRequests).thenCompose(this::whenLow);
    }

    private record Waiting(DeleteRecordsResponseData response, List<Pending> pending, long deadline) {}

    /**
     * Completes once every pending partition's in-sync replicas start at its offset, or at the deadline. Followers
     * report their log start with each fetch, so this looks again every few milliseconds, each look a short task:
     * the control thread is never held while followers catch up.
     */
    private CompletableFuture<ApiMessage> whenLow(Waiting w) {
        w.pending().removeIf(this::settled);
        if (w.pending().isEmpty()) {
            return CompletableFuture.completedFuture(w.response());
        }
        if (System.nanoTime() >= w.deadline()) {
            for (Pending p : w.pending()) {
                p.result().setLowWatermark(Math.max(-1, replication.lowWatermark(p.shard()))).setErrorCode(Errors.REQUEST_TIMED_OUT.code());
            }
            return CompletableFuture.completedFuture(w.response());
        }
        return CompletableFuture.supplyAsync(() -> w, CompletableFuture.delayedExecutor(POLL_MS, TimeUnit.MILLISECONDS, controlRequests))
                .thenCompose(this::whenLow);
    }

    /** True (and answered) once the partition's low watermark reached its offset, or it is no longer led here. */
    private boolean settled(Pending p) {
        long low = replication.lowWatermark(p.shard());
        if (low < 0) {
            p.result().setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
            return true;
        }
        if (low >= p.offset()) {
            p.result().setLowWatermark(low);
            return true;
        }
        return false;
    }

    /** Checks one partition and queues its deletion; the error to answer now (NONE: wait for it in {@link #awaitLowWatermark}). */
    private Errors start(String topic, DeleteRecordsRequestData.DeleteRecordsPartition p, DeleteRecordsPartitionResult result,
                         List<Pending> pending) {
        Shard shard = TopicNames.problem(topic) == null ? logs.catalog().shard(new TopicPartition(topic, p.partitionIndex())) : null;
        if (shard == null) {
            return Errors.UNKNOWN_TOPIC_OR_PARTITION;
        }
        if (TopicNames.internal(topic)) {
            return Errors.INVALID_TOPIC_EXCEPTION; // Capstan's own offsets: compacted by the coordinator, never deleted from outside
        }
        Errors leading = replication.canServeConsumers(shard);
        if (leading != Errors.NONE) {
            return leading;
        }
        long hw = shard.highWatermark();
        long offset = p.offset() == -1 ? hw : p.offset();
        if (offset < 0 || offset > hw) {
            return Errors.OFFSET_OUT_OF_RANGE;
        }
        if (offset > shard.logStartOffset()) {
            try {
                logs.deleteRecordsBefore(shard, offset).get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                return Errors.KAFKA_STORAGE_ERROR;
            }
        }
        pending.add(new Pending(result, shard, Math.max(offset, shard.logStartOffset())));
        return Errors.NONE;
    }
}
