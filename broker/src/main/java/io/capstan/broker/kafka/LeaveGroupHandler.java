package io.capstan.broker.kafka;

import io.capstan.broker.group.GroupCoordinator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** LeaveGroup: one member (v0-2) or a batch by member or instance id (v3+). */
public final class LeaveGroupHandler implements ApiHandler {
    private static final int BATCH_VERSION = 3;
    private final GroupCoordinator coordinator;

    public LeaveGroupHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        LeaveGroupRequestData r = (LeaveGroupRequestData) message;
        LeaveGroupResponseData response = new LeaveGroupResponseData();
        if (context.version() < BATCH_VERSION) {
            response.setErrorCode(coordinator.leave(r.groupId(), r.memberId(), null).code());
        } else {
            for (LeaveGroupRequestData.MemberIdentity m : r.members()) {
                Errors e = coordinator.leave(r.groupId(), m.memberId(), m.groupInstanceId());
                response.members().add(new LeaveGroupResponseData.MemberResponse().setMemberId(m.memberId())
                        .setGroupInstanceId(m.groupInstanceId()).setErrorCode(e.code()));
            }
        }
        return CompletableFuture.completedFuture(response);
    }
}
