package io.capstan.broker.group.modern;

import java.util.List;

/**
 * One ConsumerGroupHeartbeat, independent of the wire version. Null fields (and a rebalance timeout of -1) mean
 * "unchanged since the last heartbeat", as on the wire.
 */
public record Heartbeat(String memberId, int memberEpoch, String instanceId, String rackId, int rebalanceTimeoutMs,
                        List<String> subscribedTopicNames, String subscribedTopicRegex, String serverAssignor,
                        Assignment ownedPartitions, String clientId, String clientHost) {
    public static final int JOIN_EPOCH = 0;
    public static final int LEAVE_EPOCH = -1;
    public static final int STATIC_LEAVE_EPOCH = -2;

    /** A full request restates everything; it is answered with the whole assignment even if unchanged. */
    boolean full() {
        return memberEpoch == JOIN_EPOCH || (rebalanceTimeoutMs != -1 && subscribedTopicNames != null && ownedPartitions != null);
    }

    /** The answer: an error, or the member's id and epoch and, when it changed or was asked for, its assignment. */
    public record Result(org.apache.kafka.common.protocol.Errors error, String errorMessage, String memberId, int memberEpoch,
                         int heartbeatIntervalMs, Assignment assignment,
                         java.util.concurrent.CompletableFuture<org.apache.kafka.common.protocol.Errors> durable) {
        static final java.util.concurrent.CompletableFuture<org.apache.kafka.common.protocol.Errors> NOTHING_TO_WRITE =
                java.util.concurrent.CompletableFuture.completedFuture(org.apache.kafka.common.protocol.Errors.NONE);

        public static Result error(org.apache.kafka.common.protocol.Errors error, String message) {
            return new Result(error, message, null, 0, 0, null, NOTHING_TO_WRITE);
        }
    }
}
