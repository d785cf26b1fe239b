package io.capstan.broker.kafka;

import io.capstan.broker.log.LogManager;
import io.capstan.cluster.topics.ClusterTopics;
import io.capstan.cluster.metadata.ConflictException;
import org.apache.kafka.common.Uuid;
import io.capstan.broker.log.StorageException;
import io.capstan.broker.log.TopicExistsException;
import io.capstan.broker.log.TopicMeta;
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
 * CreateTopics with Kafka's validation: names, partition counts, replication factor, configs. Alone, the broker
 * creates the topic in its log; in a cluster it writes the topic to the metadata store, and every broker hosting a
 * replica creates its copy from there.
 */
public final class CreateTopicsHandler implements ApiHandler {
    private static final int MAX_PARTITIONS = 10_000;
    private final LogManager logs;
    private final int defaultPartitions;
    private final ClusterTopics cluster;
    private final int defaultReplicationFactor;
    private final Runnable created;

    public CreateTopicsHandler(LogManager logs, int defaultPartitions) {
        this(logs, defaultPartitions, null, 1, () -> { });
    }

    public CreateTopicsHandler(LogManager logs, int defaultPartitions, ClusterTopics cluster, int defaultReplicationFactor, Runnable created) {
        this.logs = logs;
        this.defaultPartitions = defaultPartitions;
        this.cluster = cluster;
        this.defaultReplicationFactor = defaultReplicationFactor;
        this.created = created;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        CreateTopicsRequestData request = (CreateTopicsRequestData) message;
        CreateTopicsResponseData response = new CreateTopicsResponseData();
        boolean mayCreateAny = context.allowedOnCluster(AclOperation.CREATE);
        for (CreatableTopic topic : request.topics()) {
            if (!mayCreateAny && !context.allowedOnTopic(AclOperation.CREATE, topic.name())) {
                response.topics().add(fail(new CreatableTopicResult().setName(topic.name()), Errors.TOPIC_AUTHORIZATION_FAILED,
                        context.principal() + " may not CREATE topic " + topic.name() + " (needs CREATE on the cluster or the topic)"));
                continue;
            }
            response.topics().add(create(topic, request.validateOnly()));
        }
        return CompletableFuture.completedFuture(response);
    }

    private CreatableTopicResult create(CreatableTopic topic, boolean validateOnly) {
        CreatableTopicResult result = new CreatableTopicResult().setName(topic.name());
        int partitions = topic.numPartitions() == -1 ? defaultPartitions : topic.numPartitions();
        String problem = TopicNames.problem(topic.name());
        if (problem == null && TopicNames.internal(topic.name())) {
            problem = "topic names starting with __capstan are reserved for Capstan's internal topics";
        }
        if (problem != null) {
            return fail(result, Errors.INVALID_TOPIC_EXCEPTION, problem);
        }
        if (partitions < 1 || partitions > MAX_PARTITIONS) {
            return fail(result, Errors.INVALID_PARTITIONS, "numPartitions must be 1.." + MAX_PARTITIONS + ", got " + partitions);
        }
        int brokers = cluster == null ? 1
                : cluster.liveBrokers(topic.replicationFactor() == -1 ? defaultReplicationFactor : topic.replicationFactor());
        int replicationFactor = topic.replicationFactor() == -1 ? Math.min(defaultReplicationFactor, Math.max(1, brokers))
                : topic.replicationFactor();
        if (replicationFactor < 1 || replicationFactor > brokers) {
            return fail(result, Errors.INVALID_REPLICATION_FACTOR, "replication factor " + replicationFactor
                    + " must be between 1 and the " + brokers + " live broker(s)");
        }
        if (!topic.assignments().isEmpty()) {
            return fail(result, Errors.INVALID_REQUEST, "manual replica assignment is not supported");
        }
        Map<String, String> configs = new TreeMap<>();
        for (CreateTopicsRequestData.CreatableTopicConfig c : topic.configs()) {
            String bad = TopicConfigs.problem(c.name(), c.value());
            if (bad != null) {
                return fail(result, Errors.INVALID_CONFIG, bad);
            }
            configs.put(c.name(), c.value());
        }
        boolean exists = cluster == null ? logs.catalog().topic(topic.name()) != null : cluster.topic(topic.name()).isPresent();
        if (exists) {
            return fail(result, Errors.TOPIC_ALREADY_EXISTS, "topic '" + topic.name() + "' already exists");
        }
        result.setNumPartitions(partitions).setReplicationFactor((short) replicationFactor);
        if (validateOnly) {
            return result;
        }
        if (cluster != null) {
            try {
                Uuid id = Uuid.randomUuid();
                cluster.create(topic.name(), id.toString(), partitions, replicationFactor, configs);
                created.run();
                return result.setTopicId(id);
            } catch (ConflictException e) {
                return fail(result, Errors.TOPIC_ALREADY_EXISTS, e.getMessage());
            } catch (IllegalArgumentException e) {
                return fail(result, Errors.INVALID_REPLICATION_FACTOR, e.getMessage());
            } catch (RuntimeException e) {
                return fail(result, Errors.UNKNOWN_SERVER_ERROR, "the cluster metadata store refused the topic: " + e.getMessage() + "; retry");
            }
        }
        try {
            TopicMeta created = logs.createTopic(topic.name(), partitions, configs);
            return result.setTopicId(created.id());
        } catch (TopicExistsException e) {
            return fail(result, Errors.TOPIC_ALREADY_EXISTS, e.getMessage());
        } catch (StorageException e) {
            return fail(result, Errors.KAFKA_STORAGE_ERROR, e.getMessage());
        }
    }

    private static CreatableTopicResult fail(CreatableTopicResult result, Errors error, String message) {
        return result.setErrorCode(error.code()).setErrorMessage(message).setNumPartitions(-1).setReplicationFactor((short) -1);
    }
}
