package io.capstan.broker.group.modern;

import org.apache.kafka.common.protocol.Errors;

/** A request the group refuses, with Kafka's error code and a message saying why. */
public final class GroupError extends RuntimeException {
    private final Errors error;

    public GroupError(Errors error, String message) {
        super(message, null, false, false);
        this.error = error;
    }

    public Errors error() {
        return error;
    }
}
