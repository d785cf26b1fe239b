package io.capstan.broker.kafka;

import io.capstan.broker.group.GroupCoordinator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.protocol.ApiMessage;

/** Heartbeat: keeps a member alive and tells it when a rebalance has started. */
public final class HeartbeatHandler implements ApiHandler {
    private final GroupCoordinator coordinator;

    public HeartbeatHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        HeartbeatRequestData r = (HeartbeatRequestData) message;
        return CompletableFuture.completedFuture(new HeartbeatResponseData()
                .setErrorCode(coordinator.heartbeat(r.groupId(), r.memberId(), r.groupInstanceId(), r.generationId()).code()));
    }
}
