package io.capstan.broker.group;

import org.apache.kafka.common.protocol.Errors;

/**
 * What a client is told when writing to the offsets shard failed, as Kafka's group coordinator tells it: a consumer
 * must not see a produce error it has no handling for. A full or failing disk, or a leader that moved, sends it to
 * find the coordinator again (NOT_COORDINATOR); a shard without enough replicas or a write that timed out makes it
 * retry the same coordinator (COORDINATOR_NOT_AVAILABLE); a commit too large for a batch is named as such.
 */
final class OffsetWriteErrors {
    private OffsetWriteErrors() {}

    static Errors forClient(Errors write) {
        return switch (write) {
            case NONE -> Errors.NONE;
            case UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT ->
                    Errors.COORDINATOR_NOT_AVAILABLE;
            case NOT_LEADER_OR_FOLLOWER, KAFKA_STORAGE_ERROR -> Errors.NOT_COORDINATOR;
            case MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_FETCH_SIZE -> Errors.INVALID_COMMIT_OFFSET_SIZE;
            default -> write.exception() instanceof org.apache.kafka.common.errors.RetriableException
                    ? Errors.COORDINATOR_NOT_AVAILABLE : Errors.UNKNOWN_SERVER_ERROR;
        };
    }
}
