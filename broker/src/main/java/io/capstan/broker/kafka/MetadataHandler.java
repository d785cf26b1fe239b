package io.capstan.broker.kafka;

import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import io.capstan.broker.log.TopicExistsException;
import io.capstan.broker.log.TopicMeta;
import io.capstan.cluster.view.ClusterView;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.TopicRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseBroker;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Metadata. Alone, this broker leads every shard it stores. In a cluster the answer comes from this broker's view of
 * the cluster metadata: live brokers, and each shard's leader, epoch, replicas and in-sync replicas as the store has
 * them.
 */
public final class MetadataHandler implements ApiHandler {
    private final BrokerIdentity identity;
    private final LogManager logs;
    private final boolean autoCreate;
    private final int defaultPartitions;
    private final Membership membership;
    private final ClusterView cluster;

    public MetadataHandler(BrokerIdentity identity, LogManager logs, boolean autoCreate, int defaultPartitions) {
        this(identity, logs, autoCreate, defaultPartitions, Membership.single(identity), null);
    }

    public MetadataHandler(BrokerIdentity identity, LogManager logs, boolean autoCreate, int defaultPartitions,
                           Membership membership, ClusterView cluster) {
        this.identity = identity;
        this.logs = logs;
        this.autoCreate = autoCreate && cluster == null; // in a cluster, topics are created by CreateTopics only
        this.defaultPartitions = defaultPartitions;
        this.membership = membership;
        this.cluster = cluster;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        MetadataRequestData request = (MetadataRequestData) message;
        MetadataResponseData response = new MetadataResponseData()
                .setClusterId(identity.clusterId())
                .setControllerId(membership.controller().id());
        for (Membership.Node broker : membership.brokers()) {
            Membership.Node node = broker.at(context.listener());
            response.brokers().add(new MetadataResponseBroker().setNodeId(node.id()).setHost(node.host()).setPort(node.port()).setRack(node.rack()));
        }
        boolean all = request.topics() == null || (context.version() == 0 && request.topics().isEmpty());
        if (all) {
            // a listing never names topics the caller may not describe
            if (cluster == null) {
                logs.catalog().topics().stream().filter(t -> context.allowedOnTopic(AclOperation.DESCRIBE, t.name()))
                        .forEach(t -> response.topics().add(describe(t)));
            } else {
                Set<Integer> alive = aliveIds();
                cluster.topics().values().stream().filter(t -> context.allowedOnTopic(AclOperation.DESCRIBE, t.name()))
                        .forEach(t -> response.topics().add(describe(t, alive)));
            }
        } else {
            for (MetadataRequestData.MetadataRequestTopic requested : request.topics()) {
                if (requested.name() != null && !context.allowedOnTopic(AclOperation.DESCRIBE, requested.name())) {
                    response.topics().add(new MetadataResponseTopic().setName(requested.name()).setTopicId(Uuid.ZERO_UUID)
                            .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()));
                    continue;
                }
                boolean mayCreate = request.allowAutoTopicCreation() && (context.allowedOnCluster(AclOperation.CREATE)
                        || context.allowedOnTopic(AclOperation.CREATE, requested.name() == null ? "" : requested.name()));
                MetadataResponseTopic found = cluster == null ? lookup(requested, mayCreate) : lookupInCluster(requested);
                if (found.errorCode() == Errors.NONE.code() && requested.name() == null
                        && !context.allowedOnTopic(AclOperation.DESCRIBE, found.name())) {
                    found = new MetadataResponseTopic().setTopicId(requested.topicId()).setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                }
                response.topics().add(found);
            }
        }
        for (MetadataResponseTopic t : response.topics()) {
            t.setTopicAuthorizedOperations(request.includeTopicAuthorizedOperations() && t.errorCode() == Errors.NONE.code()
                    ? AuthorizedOperations.of(context, ResourceType.TOPIC, t.name()) : AuthorizedOperations.NOT_REQUESTED);
        }
        if (request.includeClusterAuthorizedOperations() && context.version() >= 8 && context.version() <= 10) {
            response.setClusterAuthorizedOperations(AuthorizedOperations.of(context, ResourceType.CLUSTER, io.capstan.broker.security.Authorizer.CLUSTER));
        }
        return CompletableFuture.completedFuture(response);
    }

    private Set<Integer> aliveIds() {
        return membership.brokers().stream().map(Membership.Node::id).collect(Collectors.toSet());
    }

    private MetadataResponseTopic lookupInCluster(MetadataRequestData.MetadataRequestTopic requested) {
        Map<String, TopicRecord> topics = cluster.topics();
        TopicRecord topic = requested.name() != null ? topics.get(requested.name())
                : topics.values().stream().filter(t -> t.topicId().equals(requested.topicId().toString())).findFirst().orElse(null);
        if (topic == null) {
            if (requested.name() == null) {
                return new MetadataResponseTopic().setTopicId(requested.topicId()).setErrorCode(Errors.UNKNOWN_TOPIC_ID.code());
            }
            Errors error = TopicNames.problem(requested.name()) == null ? Errors.UNKNOWN_TOPIC_OR_PARTITION : Errors.INVALID_TOPIC_EXCEPTION;
            return new MetadataResponseTopic().setName(requested.name()).setTopicId(Uuid.ZERO_UUID).setErrorCode(error.code());
        }
        return describe(topic, aliveIds());
    }

    private MetadataResponseTopic describe(TopicRecord topic, Set<Integer> alive) {
        List<MetadataResponsePartition> partitions = new ArrayList<>(topic.partitions());
        for (int p = 0; p < topic.partitions(); p++) {
            ShardState shard = cluster.state(topic.name(), p);
            if (shard == null) {
                partitions.add(new MetadataResponsePartition().setPartitionIndex(p).setErrorCode(Errors.LEADER_NOT_AVAILABLE.code())
                        .setLeaderId(-1).setLeaderEpoch(-1));
                continue;
            }
            partitions.add(new MetadataResponsePartition()
                    .setPartitionIndex(p)
                    .setErrorCode(shard.leader() < 0 ? Errors.LEADER_NOT_AVAILABLE.code() : Errors.NONE.code())
                    .setLeaderId(shard.leader())
                    .setLeaderEpoch(shard.leaderEpoch())
                    .setReplicaNodes(shard.replicas())
                    .setIsrNodes(shard.isr())
                    .setOfflineReplicas(shard.replicas().stream().filter(r -> !alive.contains(r)).toList()));
        }
        return new MetadataResponseTopic().setName(topic.name()).setTopicId(Uuid.fromString(topic.topicId())).setPartitions(partitions)
                .setIsInternal(TopicNames.internal(topic.name()));
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
