package io.capstan.broker.kafka;

import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import io.capstan.broker.log.TopicExistsException;
import io.capstan.broker.log.TopicMeta;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseBroker;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** Metadata: this broker leads every shard it stores (single node until replication lands). */
public final class MetadataHandler implements ApiHandler {
    private final BrokerIdentity identity;
    private final LogManager logs;
    private final boolean autoCreate;
    private final int defaultPartitions;

    public MetadataHandler(BrokerIdentity identity, LogManager logs, boolean autoCreate, int defaultPartitions) {
        this.identity = identity;
        this.logs = logs;
        this.autoCreate = autoCreate;
        this.defaultPartitions = defaultPartitions;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        MetadataRequestData request = (MetadataRequestData) message;
        MetadataResponseData response = new MetadataResponseData()
                .setClusterId(identity.clusterId())
                .setControllerId(identity.nodeId());
        response.brokers().add(new MetadataResponseBroker()
                .setNodeId(identity.nodeId()).setHost(identity.host()).setPort(identity.port()));
        boolean all = request.topics() == null || (context.version() == 0 && request.topics().isEmpty());
        if (all) {
            logs.catalog().topics().forEach(t -> response.topics().add(describe(t)));
        } else {
            for (MetadataRequestData.MetadataRequestTopic requested : request.topics()) {
                response.topics().add(lookup(requested, request.allowAutoTopicCreation()));
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    private MetadataResponseTopic lookup(MetadataRequestData.MetadataRequestTopic requested, boolean allowAutoCreate) {
        String name = requested.name();
        if (name == null) {
            TopicMeta byId = logs.catalog().topic(requested.topicId());
            return byId != null ? describe(byId) : new MetadataResponseTopic()
                    .setTopicId(requested.topicId()).setErrorCode(Errors.UNKNOWN_TOPIC_ID.code());
        }
        TopicMeta topic = logs.catalog().topic(name);
        if (topic == null && autoCreate && allowAutoCreate && TopicNames.problem(name) == null) {
            try {
                topic = logs.createTopic(name, defaultPartitions, Map.of());
            } catch (TopicExistsException raced) {
                topic = logs.catalog().topic(name);
            }
        }
        if (topic == null) {
            Errors error = TopicNames.problem(name) == null ? Errors.UNKNOWN_TOPIC_OR_PARTITION : Errors.INVALID_TOPIC_EXCEPTION;
            return new MetadataResponseTopic().setName(name).setTopicId(Uuid.ZERO_UUID).setErrorCode(error.code());
        }
        return describe(topic);
    }

    private MetadataResponseTopic describe(TopicMeta topic) {
        List<MetadataResponsePartition> partitions = new ArrayList<>(topic.partitions());
        for (int p = 0; p < topic.partitions(); p++) {
            Shard shard = logs.catalog().shard(new TopicPartition(topic.name(), p));
            int epoch = shard == null ? 0 : shard.leaderEpoch();
            partitions.add(new MetadataResponsePartition()
                    .setPartitionIndex(p)
                    .setLeaderId(identity.nodeId())
                    .setLeaderEpoch(epoch)
                    .setReplicaNodes(List.of(identity.nodeId()))
                    .setIsrNodes(List.of(identity.nodeId()))
                    .setOfflineReplicas(List.of()));
        }
        return new MetadataResponseTopic().setName(topic.name()).setTopicId(topic.id()).setPartitions(partitions)
                .setIsInternal(TopicNames.internal(topic.name()));
    }
}
