package io.capstan.broker.kafka;

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
 * Metadata, from this broker's view of the cluster metadata: live brokers, and each shard's leader, epoch, replicas and
 * in-sync replicas as the store has them. With auto.create.topics.enable an unknown topic is created (as CreateTopics
 * with the defaults would) and answered LEADER_NOT_AVAILABLE until its leader is in place, as Kafka does.
 */
public final class MetadataHandler implements ApiHandler {
    /** Creates a topic with the default settings; the answer is CreateTopics's error for it. */
    public interface AutoCreate {
        Errors create(String topic);
    }

    private final BrokerIdentity identity;
    private final Membership membership;
    private final ClusterView cluster;
    private final AutoCreate autoCreate;

    /** {@code autoCreate}: null when auto.create.topics.enable is off. */
    public MetadataHandler(BrokerIdentity identity, Membership membership, ClusterView cluster, AutoCreate autoCreate) {
        this.identity = identity;
        this.membership = membership;
        this.cluster = cluster;
        this.autoCreate = autoCreate;
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
            Set<Integer> alive = aliveIds();
            cluster.topics().values().stream().filter(t -> context.allowedOnTopic(AclOperation.DESCRIBE, t.name()))
                    .forEach(t -> response.topics().add(describe(t, alive)));
        } else {
            for (MetadataRequestData.MetadataRequestTopic requested : request.topics()) {
                if (requested.name() != null && !context.allowedOnTopic(AclOperation.DESCRIBE, requested.name())) {
                    response.topics().add(new MetadataResponseTopic().setName(requested.name()).setTopicId(Uuid.ZERO_UUID)
                            .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()));
                    continue;
                }
                boolean mayCreate = request.allowAutoTopicCreation() && (context.allowedOnCluster(AclOperation.CREATE)
                        || context.allowedOnTopic(AclOperation.CREATE, requested.name() == null ? "" : requested.name()));
                MetadataResponseTopic found = lookup(requested, mayCreate);
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

    private MetadataResponseTopic lookup(MetadataRequestData.MetadataRequestTopic requested, boolean mayCreate) {
        Map<String, TopicRecord> topics = cluster.topics();
        TopicRecord topic = requested.name() != null ? topics.get(requested.name())
                : topics.values().stream().filter(t -> t.topicId().equals(requested.topicId().toString())).findFirst().orElse(null);
        if (topic == null) {
            if (requested.name() == null) {
                return new MetadataResponseTopic().setTopicId(requested.topicId()).setErrorCode(Errors.UNKNOWN_TOPIC_ID.code());
            }
            Errors error = TopicNames.problem(requested.name()) == null ? Errors.UNKNOWN_TOPIC_OR_PARTITION : Errors.INVALID_TOPIC_EXCEPTION;
            if (error == Errors.UNKNOWN_TOPIC_OR_PARTITION && mayCreate && autoCreate != null) {
                Errors created = autoCreate.create(requested.name());
                error = created == Errors.NONE || created == Errors.TOPIC_ALREADY_EXISTS ? Errors.LEADER_NOT_AVAILABLE : created;
            }
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
}
