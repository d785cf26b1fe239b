package io.capstan.broker.group.modern;

import java.util.LinkedHashMap;

/** A member of a classic group as an online upgrade takes it over: who it is, what it joined with, what it was assigned. */
public record ClassicMemberState(String memberId, String instanceId, String clientId, String clientHost, int sessionTimeoutMs,
                                 int rebalanceTimeoutMs, LinkedHashMap<String, byte[]> protocols, byte[] assignment) {}
