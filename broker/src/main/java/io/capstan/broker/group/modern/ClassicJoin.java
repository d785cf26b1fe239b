package io.capstan.broker.group.modern;

import java.util.LinkedHashMap;

/** A JoinGroup a consumer-protocol group answers for a member still on the classic protocol. */
public record ClassicJoin(String memberId, String instanceId, String clientId, String clientHost, int sessionTimeoutMs,
                          int rebalanceTimeoutMs, String protocolType, LinkedHashMap<String, byte[]> protocols,
                          boolean requireKnownMemberId) {}
