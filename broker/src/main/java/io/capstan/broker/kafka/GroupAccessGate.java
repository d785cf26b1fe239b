package io.capstan.broker.kafka;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** Group membership requests (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, ConsumerGroupHeartbeat) need READ on the group, as in Kafka. */
public final class GroupAccessGate implements ApiHandler {
    private final ApiKeys api;
    private final ApiHandler delegate;
    private final Function<ApiMessage, String> groupOf;

    private GroupAccessGate(ApiKeys api, ApiHandler delegate, Function<ApiMessage, String> groupOf) {
        this.api = api;
        this.delegate = delegate;
        this.groupOf = groupOf;
    }

    public static ApiHandler wrap(ApiKeys api, ApiHandler delegate) {
        Function<ApiMessage, String> groupOf = switch (api) {
            case JOIN_GROUP -> m -> ((JoinGroupRequestData) m).groupId();
            case SYNC_GROUP -> m -> ((SyncGroupRequestData) m).groupId();
            case HEARTBEAT -> m -> ((HeartbeatRequestData) m).groupId();
            case LEAVE_GROUP -> m -> ((LeaveGroupRequestData) m).groupId();
            case CONSUMER_GROUP_HEARTBEAT -> m -> ((org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData) m).groupId();
            default -> null;
        };
        return groupOf == null ? delegate : new GroupAccessGate(api, delegate, groupOf);
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage request) {
        if (context.allowedOnGroup(AclOperation.READ, groupOf.apply(request))) {
            return delegate.handle(context, request);
        }
        return CompletableFuture.completedFuture(ErrorResponses.of(api, context.version(), request, Errors.GROUP_AUTHORIZATION_FAILED));
    }
}
