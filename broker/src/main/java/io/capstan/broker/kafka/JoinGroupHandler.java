package io.capstan.broker.kafka;

import io.capstan.broker.group.GroupCoordinator;
import io.capstan.broker.group.GroupRequests;
import java.util.LinkedHashMap;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.protocol.ApiMessage;

/** JoinGroup: the rebalance barrier; the answer comes when the group's generation is complete. */
public final class JoinGroupHandler implements ApiHandler {
    private static final int KNOWN_MEMBER_ID_VERSION = 4;
    private static final int PROTOCOL_TYPE_VERSION = 7;
    private final GroupCoordinator coordinator;

    public JoinGroupHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        JoinGroupRequestData r = (JoinGroupRequestData) message;
        LinkedHashMap<String, byte[]> protocols = new LinkedHashMap<>();
        r.protocols().forEach(p -> protocols.putIfAbsent(p.name(), p.metadata()));
        String host = context.clientHost();
        int rebalanceTimeout = context.version() >= 1 ? r.rebalanceTimeoutMs() : r.sessionTimeoutMs();
        var request = GroupRequests.join(r.memberId(), r.groupInstanceId(), context.header().clientId(), "/" + host,
                r.sessionTimeoutMs(), rebalanceTimeout, r.protocolType(), protocols, context.version() >= KNOWN_MEMBER_ID_VERSION);
        short version = context.version();
        return coordinator.join(r.groupId(), request).thenApply(response -> {
            if (version < PROTOCOL_TYPE_VERSION) {
                response.setProtocolType(null);
            }
            if (response.protocolName() == null && version < PROTOCOL_TYPE_VERSION) {
                response.setProtocolName("");
            }
            return (ApiMessage) response;
        });
    }

}
