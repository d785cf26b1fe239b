package io.capstan.broker.kafka;

import io.capstan.cluster.topics.ClusterTopics;
import io.capstan.cluster.metadata.ConflictException;
import org.apache.kafka.common.Uuid;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopic;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.acl.AclOperation;

/**
 * CreateTopics with Kafka's validation: names, partition counts, replication factor, configs. The topic is written to
 * the metadata store, and every broker hosting a replica creates its copy from there.
 */
public final class CreateTopicsHandler implements ApiHandler {
    private final int defaultPartitions;
    private final ClusterTopics cluster;
    private final int defaultReplicationFactor;
    private final Applied applied;
    private final java.util.concurrent.Executor controlRequests;
    private final int maxPartitions;

    /** Waits (at most the given time) until this broker has acted on the store up to a revision. */
    public interface Applied {
        void await(long revision, long timeoutMs);
    }

    /**
     * {@code controlRequests}: where the store writes run, off the event loop. {@code applied}: a created topic is
     * answered once this broker's own view has it and has taken its roles in it, so that a client asking this broker
     * next finds the topic (other brokers follow their own watches).
     */
    public CreateTopicsHandler(ClusterTopics cluster, int defaultPartitions, int defaultReplicationFactor, Applied applied,
                               java.util.concurrent.Executor controlRequests, int maxPartitions) {
        this.maxPartitions = maxPartitions;
        this.defaultPartitions = defaultPartitions;
        this.cluster = cluster;
        this.defaultReplicationFactor = defaultReplicationFactor;
        this.applied = applied;
        this.controlRequests = controlRequests;
    }

    /** auto.create.topics.enable: a topic named in a Metadata request, with the default partitions and replicas. */
    public Errors autoCreate(String name) {
        CreatableTopicResult result = create(new CreatableTopic().setName(name).setNumPartitions(-1).setReplicationFactor((short) -1), false, 0);
        return Errors.forCode(result.errorCode());
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        CreateTopicsRequestData request = (CreateTopicsRequestData) message;
        return CompletableFuture.supplyAsync(() -> createAll(context, request), controlRequests);
    }

    private ApiMessage createAll(RequestContext context, CreateTopicsRequestData request) {
        CreateTopicsResponseData response = new CreateTopicsResponseData();
        boolean mayCreateAny = context.allowedOnCluster(AclOperation.CREATE);
        long deadline = System.currentTimeMillis() + Math.max(0, request.timeoutMs());
        for (CreatableTopic topic : request.topics()) {
            if (!mayCreateAny && !context.allowedOnTopic(AclOperation.CREATE, topic.name())) {
                response.topics().add(fail(new CreatableTopicResult().setName(topic.name()), Errors.TOPIC_AUTHORIZATION_FAILED,
                        context.principal() + " may not CREATE topic " + topic.name() + " (needs CREATE on the cluster or the topic)"));
                continue;
            }
            response.topics().add(create(topic, request.validateOnly(), Math.max(0, deadline - System.currentTimeMillis())));
        }
        return response;
    }

    /**
     * Where a new topic's replicas go: placed by the cluster ({@code replicas} null) or named per partition by the
     * request; or why neither can be ({@code refused}, already filled in).
     */
    private record Placement(int partitions, int replicationFactor, List<List<Integer>> replicas, CreatableTopicResult refused) {
        static Placement refused(CreatableTopicResult result) {
            return new Placement(0, 0, null, result);
        }
    }

    private CreatableTopicResult create(CreatableTopic topic, boolean validateOnly, long waitMs) {
        CreatableTopicResult result = new CreatableTopicResult().setName(topic.name());
        String problem = TopicNames.problem(topic.name());
        if (problem == null && TopicNames.internal(topic.name())) {
            problem = "topic names starting with __capstan are reserved for Capstan's internal topics";
        }
        if (problem != null) {
            return fail(result, Errors.INVALID_TOPIC_EXCEPTION, problem);
        }
        Placement placement = topic.assignments().isEmpty() ? placedByCluster(topic, result) : namedByRequest(topic, result);
        if (placement.refused() != null) {
            return placement.refused();
        }
        PartitionGrowth.Refusal limit = PartitionGrowth.clusterLimit(placement.partitions(), cluster.knownPartitions(), maxPartitions);
        if (limit != null) {
            return fail(result, limit.error(), limit.message());
        }
        Map<String, String> configs = new TreeMap<>();
        for (CreateTopicsRequestData.CreatableTopicConfig c : topic.configs()) {
            String bad = TopicConfigs.problem(c.name(), c.value());
            if (bad != null) {
                return fail(result, Errors.INVALID_CONFIG, bad);
            }
            configs.put(c.name(), c.value());
        }
        if (cluster.topic(topic.name()).isPresent()) {
            return fail(result, Errors.TOPIC_ALREADY_EXISTS, "topic '" + topic.name() + "' already exists");
        }
        result.setNumPartitions(placement.partitions()).setReplicationFactor((short) placement.replicationFactor());
        if (validateOnly) {
            return result;
        }
        try {
            Uuid id = Uuid.randomUuid();
            long revision = placement.replicas() == null
                    ? cluster.create(topic.name(), id.toString(), placement.partitions(), placement.replicationFactor(), configs)
                    : cluster.create(topic.name(), id.toString(), placement.replicas(), configs);
            applied.await(revision, waitMs);
            return result.setTopicId(id);
        } catch (ConflictException e) {
            return fail(result, Errors.TOPIC_ALREADY_EXISTS, e.getMessage());
        } catch (IllegalArgumentException e) {
            return fail(result, placement.replicas() == null ? Errors.INVALID_REPLICATION_FACTOR : Errors.INVALID_REPLICA_ASSIGNMENT, e.getMessage());
        } catch (RuntimeException e) {
            return fail(result, Errors.UNKNOWN_SERVER_ERROR, "the cluster metadata store refused the topic: " + e.getMessage() + "; retry");
        }
    }

    /** A partition count (default num.partitions) and replication factor (default, capped at the live brokers). */
    private Placement placedByCluster(CreatableTopic topic, CreatableTopicResult result) {
        int partitions = topic.numPartitions() == -1 ? defaultPartitions : topic.numPartitions();
        if (partitions < 1 || partitions > PartitionGrowth.MAX_PER_TOPIC) {
            return Placement.refused(fail(result, Errors.INVALID_PARTITIONS, "numPartitions must be 1.." + PartitionGrowth.MAX_PER_TOPIC
                    + ", got " + partitions));
        }
        int brokers = cluster.liveBrokers(topic.replicationFactor() == -1 ? defaultReplicationFactor : topic.replicationFactor());
        int replicationFactor = topic.replicationFactor() == -1 ? Math.min(defaultReplicationFactor, Math.max(1, brokers))
                : topic.replicationFactor();
        if (replicationFactor < 1 || replicationFactor > brokers) {
            return Placement.refused(fail(result, Errors.INVALID_REPLICATION_FACTOR, "replication factor " + replicationFactor
                    + " must be between 1 and the " + brokers + " live broker(s)"));
        }
        return new Placement(partitions, replicationFactor, null, null);
    }

    /**
     * Replicas the request names (kafka-topics --replica-assignment), with Kafka's rules: no partition count or
     * replication factor beside them, partitions numbered 0..n-1, the replica lists as the cluster accepts them.
     */
    private Placement namedByRequest(CreatableTopic topic, CreatableTopicResult result) {
        if (topic.numPartitions() != -1 || topic.replicationFactor() != -1) {
            return Placement.refused(fail(result, Errors.INVALID_REQUEST, "Both numPartitions or replicationFactor and replicasAssignments"
                    + " were set. Both cannot be used at the same time."));
        }
        Map<Integer, List<Integer>> byPartition = new TreeMap<>();
        topic.assignments().forEach(a -> byPartition.put(a.partitionIndex(), a.brokerIds()));
        int partitions = byPartition.size();
        if (partitions != topic.assignments().size() || byPartition.keySet().stream().anyMatch(p -> p < 0 || p >= partitions)) {
            return Placement.refused(fail(result, Errors.INVALID_REPLICA_ASSIGNMENT, "Partitions should be a consecutive 0-based integer"
                    + " sequence, got " + topic.assignments().stream().map(a -> a.partitionIndex()).toList()));
        }
        if (partitions > PartitionGrowth.MAX_PER_TOPIC) {
            return Placement.refused(fail(result, Errors.INVALID_PARTITIONS, "at most " + PartitionGrowth.MAX_PER_TOPIC
                    + " partitions per topic, got " + partitions));
        }
        List<List<Integer>> replicas = List.copyOf(byPartition.values());
        String problem = ClusterTopics.assignmentProblem(replicas, cluster.registeredBrokers());
        if (problem != null) {
            return Placement.refused(fail(result, Errors.INVALID_REPLICA_ASSIGNMENT, problem));
        }
        return new Placement(partitions, replicas.get(0).size(), replicas, null);
    }

    private static CreatableTopicResult fail(CreatableTopicResult result, Errors error, String message) {
        return result.setErrorCode(error.code()).setErrorMessage(message).setNumPartitions(-1).setReplicationFactor((short) -1);
    }
}
