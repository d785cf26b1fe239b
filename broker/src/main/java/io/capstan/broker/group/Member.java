package io.capstan.broker.group;

import java.util.LinkedHashMap;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;

/** One member of a classic group. Mutated only under its group's lock. */
final class Member {
    final String memberId;
    final String instanceId;
    final String clientId;
    final String clientHost;
    int sessionTimeoutMs;
    int rebalanceTimeoutMs;
    /** Protocol name to subscription metadata, in the member's order of preference. */
    LinkedHashMap<String, byte[]> protocols;
    byte[] assignment = new byte[0];
    CompletableFuture<JoinGroupResponseData> pendingJoin;
    CompletableFuture<SyncGroupResponseData> pendingSync;
    long lastSeenNanos;

    Member(String memberId, String instanceId, String clientId, String clientHost, int sessionTimeoutMs,
           int rebalanceTimeoutMs, LinkedHashMap<String, byte[]> protocols, long nowNanos) {
        this.memberId = memberId;
        this.instanceId = instanceId;
        this.clientId = clientId;
        this.clientHost = clientHost;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.rebalanceTimeoutMs = rebalanceTimeoutMs;
        this.protocols = protocols;
        this.lastSeenNanos = nowNanos;
    }

    /** A copy under a new member id, as when a static member restarts. */
    Member withId(String newId, String clientHost, long nowNanos) {
        Member m = new Member(newId, instanceId, clientId, clientHost, sessionTimeoutMs, rebalanceTimeoutMs, protocols, nowNanos);
        m.assignment = assignment;
        return m;
    }

    boolean sameProtocols(LinkedHashMap<String, byte[]> other) {
        if (!protocols.keySet().equals(other.keySet())) {
            return false;
        }
        for (var e : protocols.entrySet()) {
            if (!java.util.Arrays.equals(e.getValue(), other.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    boolean expired(long nowNanos) {
        return pendingJoin == null && nowNanos - lastSeenNanos > sessionTimeoutMs * 1_000_000L;
    }
}
