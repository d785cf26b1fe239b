package io.capstan.broker.log;

public final class TopicExistsException extends RuntimeException {
    public TopicExistsException(String message) {
        super(message);
    }
}
