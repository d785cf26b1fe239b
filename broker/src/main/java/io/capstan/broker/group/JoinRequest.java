package io.capstan.broker.group;

import java.util.LinkedHashMap;

/** The parts of a JoinGroup request the group needs, independent of the wire version. */
public record JoinRequest(String memberId, String instanceId, String clientId, String clientHost, int sessionTimeoutMs,
                   int rebalanceTimeoutMs, String protocolType, LinkedHashMap<String, byte[]> protocols,
                   boolean requireKnownMemberId) {}
