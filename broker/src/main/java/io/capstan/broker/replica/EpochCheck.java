package io.capstan.broker.replica;

import org.apache.kafka.common.protocol.Errors;

/** Kafka's leader-epoch fencing: a request from an older epoch is fenced; one from a newer epoch is early. */
final class EpochCheck {
    private EpochCheck() {}

    static Errors check(int leaderEpoch, int requestEpoch) {
        if (requestEpoch < 0 || requestEpoch == leaderEpoch) {
            return Errors.NONE;
        }
        return requestEpoch < leaderEpoch ? Errors.FENCED_LEADER_EPOCH : Errors.UNKNOWN_LEADER_EPOCH;
    }
}
