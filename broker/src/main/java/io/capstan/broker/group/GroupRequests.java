package io.capstan.broker.group;

import java.util.LinkedHashMap;

/** Factory for the coordinator's request values, so the Kafka layer need not see package-private types. */
public final class GroupRequests {
    private GroupRequests() {}

    public static JoinRequest join(String memberId, String instanceId, String clientId, String clientHost, int sessionTimeoutMs,
                                   int rebalanceTimeoutMs, String protocolType, LinkedHashMap<String, byte[]> protocols,
                                   boolean requireKnownMemberId) {
        return new JoinRequest(memberId, instanceId, clientId, clientHost, sessionTimeoutMs, rebalanceTimeoutMs,
                protocolType, protocols, requireKnownMemberId);
    }
}
