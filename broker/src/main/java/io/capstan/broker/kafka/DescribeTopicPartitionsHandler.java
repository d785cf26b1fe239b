package io.capstan.broker.kafka;

import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.TopicRecord;
import io.capstan.cluster.view.ClusterView;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeTopicPartitionsRequestData;
import org.apache.kafka.common.message.DescribeTopicPartitionsResponseData;
import org.apache.kafka.common.message.DescribeTopicPartitionsResponseData.Cursor;
import org.apache.kafka.common.message.DescribeTopicPartitionsResponseData.DescribeTopicPartitionsResponsePartition;
import org.apache.kafka.common.message.DescribeTopicPartitionsResponseData.DescribeTopicPartitionsResponseTopic;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/**
 * DescribeTopicPartitions (KIP-966), what Kafka 3.8+ admin clients describe topics with: the topics asked for (all the
 * caller may describe when none are named), in name order, paged by partitions (at most {@value #MAX_PARTITIONS} an
 * answer, Kafka's max.request.partition.size.limit) with a cursor where the next page starts. Capstan has no eligible
 * leader replicas (KIP-966's ELR): those lists are empty, as in a Kafka cluster with ELR off.
 */
public final class DescribeTopicPartitionsHandler implements ApiHandler {
    static final int MAX_PARTITIONS = 2000;

    private final Membership membership;
    private final ClusterView cluster;

    public DescribeTopicPartitionsHandler(Membership membership, ClusterView cluster) {
        this.membership = membership;
        this.cluster = cluster;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        DescribeTopicPartitionsRequestData request = (DescribeTopicPartitionsRequestData) message;
        DescribeTopicPartitionsRequestData.Cursor cursor = request.cursor();
        String from = cursor == null ? "" : cursor.topicName();
        boolean all = request.topics().isEmpty();
        Map<String, TopicRecord> topics = cluster.topics();
        TreeSet<String> names = new TreeSet<>();
        (all ? topics.keySet() : request.topics().stream().map(DescribeTopicPartitionsRequestData.TopicRequest::name).toList())
                .stream().filter(n -> n.compareTo(from) >= 0).forEach(names::add);
        if ((cursor != null && !all && !names.contains(cursor.topicName())) || (cursor != null && cursor.partitionIndex() < 0)) {
            // Kafka answers these with INVALID_REQUEST for every topic asked
            return CompletableFuture.completedFuture(ErrorResponses.of(ApiKeys.DESCRIBE_TOPIC_PARTITIONS, context.version(), request,
                    Errors.INVALID_REQUEST));
        }
        DescribeTopicPartitionsResponseData response = new DescribeTopicPartitionsResponseData();
        List<DescribeTopicPartitionsResponseTopic> refused = new ArrayList<>();
        int remaining = Math.max(Math.min(MAX_PARTITIONS, request.responsePartitionLimit()), 1);
        Set<Integer> alive = membership.brokers().stream().map(Membership.Node::id).collect(Collectors.toSet());
        for (String name : names) {
            if (!context.allowedOnTopic(AclOperation.DESCRIBE, name)) {
                if (!all) {
                    // no id, and no hint whether it exists
                    refused.add(new DescribeTopicPartitionsResponseTopic().setName(name).setTopicId(Uuid.ZERO_UUID)
                            .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()));
                }
                continue;
            }
            if (remaining == 0) {
                response.setNextCursor(new Cursor().setTopicName(name).setPartitionIndex(0));
                break;
            }
            TopicRecord topic = topics.get(name);
            if (topic == null) {
                if (!all) {
                    Errors error = TopicNames.problem(name) == null ? Errors.UNKNOWN_TOPIC_OR_PARTITION : Errors.INVALID_TOPIC_EXCEPTION;
                    response.topics().add(new DescribeTopicPartitionsResponseTopic().setName(name).setTopicId(Uuid.ZERO_UUID)
                            .setErrorCode(error.code()).setIsInternal(TopicNames.internal(name)));
                }
                continue;
            }
            int first = name.equals(from) && cursor != null ? cursor.partitionIndex() : 0;
            int last = Math.min(topic.partitions(), first + remaining);
            List<DescribeTopicPartitionsResponsePartition> partitions = new ArrayList<>();
            for (int p = first; p < last; p++) {
                partitions.add(partition(name, p, alive));
            }
            response.topics().add(new DescribeTopicPartitionsResponseTopic().setName(name).setTopicId(Uuid.fromString(topic.topicId()))
                    .setIsInternal(TopicNames.internal(name)).setPartitions(partitions)
                    .setTopicAuthorizedOperations(AuthorizedOperations.of(context, ResourceType.TOPIC, name)));
            remaining -= partitions.size();
            if (last < topic.partitions()) {
                response.setNextCursor(new Cursor().setTopicName(name).setPartitionIndex(last));
                break;
            }
        }
        response.topics().addAll(refused);
        return CompletableFuture.completedFuture(response);
    }

    private DescribeTopicPartitionsResponsePartition partition(String topic, int p, Set<Integer> alive) {
        ShardState shard = cluster.state(topic, p);
        if (shard == null) {
            return new DescribeTopicPartitionsResponsePartition().setPartitionIndex(p).setErrorCode(Errors.LEADER_NOT_AVAILABLE.code())
                    .setLeaderId(-1).setLeaderEpoch(-1);
        }
        return new DescribeTopicPartitionsResponsePartition()
                .setPartitionIndex(p)
                .setErrorCode(shard.leader() < 0 ? Errors.LEADER_NOT_AVAILABLE.code() : Errors.NONE.code())
                .setLeaderId(shard.leader())
                .setLeaderEpoch(shard.leaderEpoch())
                .setReplicaNodes(shard.replicas())
                .setIsrNodes(shard.isr())
                .setEligibleLeaderReplicas(List.of())
                .setLastKnownElr(List.of())
                .setOfflineReplicas(shard.replicas().stream().filter(r -> !alive.contains(r)).toList());
    }
}
