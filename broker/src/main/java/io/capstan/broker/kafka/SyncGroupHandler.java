package io.capstan.broker.kafka;

import io.capstan.broker.group.GroupCoordinator;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.protocol.ApiMessage;

/** SyncGroup: the leader hands in assignments; everyone gets theirs once it has. */
public final class SyncGroupHandler implements ApiHandler {
    private static final int PROTOCOL_VERSION = 5;
    private final GroupCoordinator coordinator;

    public SyncGroupHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        SyncGroupRequestData r = (SyncGroupRequestData) message;
        Map<String, byte[]> assignments = new HashMap<>();
        r.assignments().forEach(a -> assignments.put(a.memberId(), a.assignment()));
        short version = context.version();
        return coordinator.sync(r.groupId(), r.memberId(), r.groupInstanceId(), r.generationId(),
                        version >= PROTOCOL_VERSION ? r.protocolType() : null, version >= PROTOCOL_VERSION ? r.protocolName() : null, assignments)
                .thenApply(response -> {
                    if (version < PROTOCOL_VERSION) {
                        response.setProtocolType(null).setProtocolName(null);
                    }
                    return (ApiMessage) response;
                });
    }
}
