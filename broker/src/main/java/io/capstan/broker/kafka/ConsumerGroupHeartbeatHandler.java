package io.capstan.broker.kafka;

import io.capstan.broker.group.GroupCoordinator;
import io.capstan.broker.group.modern.Assignment;
import io.capstan.broker.group.modern.Heartbeat;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * ConsumerGroupHeartbeat (KIP-848): joins, keeps alive, reconciles and leaves a consumer-protocol group. The request is
 * checked as Kafka checks it (INVALID_REQUEST naming the field); the subscribed topics need DESCRIBE, as in Kafka 4.
 */
public final class ConsumerGroupHeartbeatHandler implements ApiHandler {
    /** From v1 the consumer makes up its member id (KIP-1082); v0 lets the coordinator do it. */
    private static final short CLIENT_MEMBER_ID_VERSION = 1;

    private final GroupCoordinator coordinator;

    public ConsumerGroupHeartbeatHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        ConsumerGroupHeartbeatRequestData r = (ConsumerGroupHeartbeatRequestData) message;
        String invalid = invalid(r, context.version());
        if (invalid != null) {
            return done(Errors.INVALID_REQUEST, invalid);
        }
        if (r.subscribedTopicNames() != null) {
            List<String> refused = r.subscribedTopicNames().stream().filter(t -> !context.allowedOnTopic(AclOperation.DESCRIBE, t)).toList();
            if (!refused.isEmpty()) {
                return done(Errors.TOPIC_AUTHORIZATION_FAILED, "not authorized to describe topics " + refused);
            }
        }
        String memberId = r.memberId().isEmpty() ? Uuid.randomUuid().toString() : r.memberId();
        Heartbeat.Result result = coordinator.consumerHeartbeat(r.groupId(), new Heartbeat(memberId, r.memberEpoch(), r.instanceId(),
                r.rackId(), r.rebalanceTimeoutMs(), r.subscribedTopicNames(), r.subscribedTopicRegex(), r.serverAssignor(),
                owned(r.topicPartitions()), context.header().clientId(), context.clientHost()));
        if (result.error() != Errors.NONE) {
            return done(result.error(), result.errorMessage());
        }
        ConsumerGroupHeartbeatResponseData response = new ConsumerGroupHeartbeatResponseData().setMemberId(result.memberId())
                .setMemberEpoch(result.memberEpoch()).setHeartbeatIntervalMs(result.heartbeatIntervalMs());
        if (result.assignment() != null) {
            ConsumerGroupHeartbeatResponseData.Assignment a = new ConsumerGroupHeartbeatResponseData.Assignment();
            result.assignment().partitions().forEach((topic, ps) -> a.topicPartitions().add(
                    new ConsumerGroupHeartbeatResponseData.TopicPartitions().setTopicId(topic).setPartitions(new ArrayList<>(ps))));
            response.setAssignment(a);
        }
        // the member hears of a change only once it is durable in the offsets shard (a new coordinator resumes from it)
        return result.durable().thenApply(error -> error == Errors.NONE ? (ApiMessage) response
                : new ConsumerGroupHeartbeatResponseData().setErrorCode(error.code())
                        .setErrorMessage("the group's new state could not be made durable (" + error + "); retry"));
    }

    /** Why Kafka would refuse this request as malformed, or null. */
    static String invalid(ConsumerGroupHeartbeatRequestData r, short version) {
        if (r.groupId().isEmpty()) {
            return "GroupId can't be empty.";
        }
        if (r.instanceId() != null && r.instanceId().isEmpty()) {
            return "InstanceId can't be empty.";
        }
        if (r.rackId() != null && r.rackId().isEmpty()) {
            return "RackId can't be empty.";
        }
        if (version >= CLIENT_MEMBER_ID_VERSION && r.memberId().isEmpty()) {
            return "MemberId can't be empty.";
        }
        int epoch = r.memberEpoch();
        if (epoch > 0 || epoch == Heartbeat.LEAVE_EPOCH) {
            return r.memberId().isEmpty() ? "MemberId can't be empty." : null;
        }
        if (epoch == Heartbeat.JOIN_EPOCH) {
            if (r.rebalanceTimeoutMs() == -1) {
                return "RebalanceTimeoutMs must be provided in first request.";
            }
            if (r.topicPartitions() == null || !r.topicPartitions().isEmpty()) {
                return "TopicPartitions must be empty when (re-)joining.";
            }
            if (r.subscribedTopicNames() == null && r.subscribedTopicRegex() == null) {
                return "SubscribedTopicNames or SubscribedTopicRegex must be set in first request.";
            }
            return null;
        }
        if (epoch == Heartbeat.STATIC_LEAVE_EPOCH) {
            if (r.memberId().isEmpty()) {
                return "MemberId can't be empty.";
            }
            return r.instanceId() == null ? "InstanceId can't be null." : null;
        }
        return "MemberEpoch is invalid.";
    }

    private static Assignment owned(List<ConsumerGroupHeartbeatRequestData.TopicPartitions> topics) {
        if (topics == null) {
            return null;
        }
        Map<Uuid, Set<Integer>> owned = new HashMap<>();
        topics.forEach(t -> owned.computeIfAbsent(t.topicId(), x -> new HashSet<>()).addAll(t.partitions()));
        return Assignment.of(owned);
    }

    private static CompletionStage<ApiMessage> done(Errors error, String message) {
        return CompletableFuture.completedFuture(new ConsumerGroupHeartbeatResponseData().setErrorCode(error.code()).setErrorMessage(message));
    }
}
