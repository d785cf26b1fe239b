package io.capstan.broker.kafka;

import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.metadata.TopicRecord;
import io.capstan.cluster.topics.ClusterTopics;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsRequestData.CreatePartitionsTopic;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreatePartitionsResponseData.CreatePartitionsTopicResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * CreatePartitions ({@code kafka-topics --alter --partitions}, {@code Admin.createPartitions}): a topic grows, its new
 * shards placed as a new topic's would be or where the request says, checked by {@link PartitionGrowth}. Keys of
 * existing records keep their partitions; new records with those keys may hash elsewhere, as in Kafka.
 */
public final class CreatePartitionsHandler implements ApiHandler {
    private final ClusterTopics cluster;
    private final CreateTopicsHandler.Applied applied;
    private final int maxPartitions;
    private final Supplier<Set<Integer>> liveBrokers;
    private final Executor controlRequests;

    public CreatePartitionsHandler(ClusterTopics cluster, CreateTopicsHandler.Applied applied, int maxPartitions,
                                   Supplier<Set<Integer>> liveBrokers, Executor controlRequests) {
        this.cluster = cluster;
        this.applied = applied;
        this.maxPartitions = maxPartitions;
        this.liveBrokers = liveBrokers;
        this.controlRequests = controlRequests;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        CreatePartitionsRequestData request = (CreatePartitionsRequestData) message;
        return CompletableFuture.supplyAsync(() -> {
            CreatePartitionsResponseData response = new CreatePartitionsResponseData();
            Set<String> seen = new HashSet<>();
            Set<String> twice = new HashSet<>();
            request.topics().forEach(t -> {
                if (!seen.add(t.name())) {
                    twice.add(t.name());
                }
            });
            long deadline = System.currentTimeMillis() + Math.max(0, request.timeoutMs());
            for (CreatePartitionsTopic topic : request.topics()) {
                CreatePartitionsTopicResult result = new CreatePartitionsTopicResult().setName(topic.name());
                if (twice.contains(topic.name())) {
                    fail(result, Errors.INVALID_REQUEST, "Duplicate topic name.");
                } else if (!context.allowedOnTopic(AclOperation.ALTER, topic.name())) {
                    fail(result, Errors.TOPIC_AUTHORIZATION_FAILED, context.principal() + " may not ALTER topic " + topic.name());
                } else {
                    grow(topic, request.validateOnly(), Math.max(0, deadline - System.currentTimeMillis()), result);
                }
                response.results().add(result);
            }
            return response;
        }, controlRequests);
    }

    private void grow(CreatePartitionsTopic topic, boolean validateOnly, long waitMs, CreatePartitionsTopicResult result) {
        TopicRecord current = TopicNames.problem(topic.name()) == null ? cluster.topic(topic.name()).orElse(null) : null;
        if (current == null) {
            fail(result, Errors.UNKNOWN_TOPIC_OR_PARTITION, "topic '" + topic.name() + "' does not exist");
            return;
        }
        if (TopicNames.internal(topic.name())) {
            fail(result, Errors.INVALID_REQUEST, "Capstan's internal topic " + topic.name() + " cannot be given more partitions");
            return;
        }
        List<List<Integer>> assignments = topic.assignments() == null ? null
                : topic.assignments().stream().map(a -> List.copyOf(a.brokerIds())).toList();
        PartitionGrowth.Refusal refusal = PartitionGrowth.check(current.partitions(), current.replicationFactor(), topic.count(),
                assignments, cluster.knownPartitions(), maxPartitions, liveBrokers.get());
        if (refusal != null) {
            fail(result, refusal.error(), refusal.message());
            return;
        }
        if (validateOnly) {
            return;
        }
        try {
            OptionalLong revision = cluster.addPartitions(topic.name(), topic.count(), assignments);
            if (revision.isEmpty()) {
                fail(result, Errors.UNKNOWN_TOPIC_OR_PARTITION, "topic '" + topic.name() + "' does not exist");
                return;
            }
            applied.await(revision.getAsLong(), waitMs);
        } catch (IllegalArgumentException e) {
            fail(result, Errors.INVALID_PARTITIONS, e.getMessage());
        } catch (ConflictException e) {
            fail(result, Errors.INVALID_PARTITIONS, e.getMessage());
        } catch (RuntimeException e) {
            fail(result, Errors.UNKNOWN_SERVER_ERROR, "the cluster metadata store did not take the new partitions (" + e.getMessage() + "); retry");
        }
    }

    private static void fail(CreatePartitionsTopicResult result, Errors error, String message) {
        result.setErrorCode(error.code()).setErrorMessage(message);
    }
}
