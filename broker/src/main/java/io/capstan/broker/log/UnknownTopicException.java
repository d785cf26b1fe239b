package io.capstan.broker.log;

public final class UnknownTopicException extends RuntimeException {
    public UnknownTopicException(String message) {
        super(message);
    }
}
