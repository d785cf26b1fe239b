package io.capstan.broker.log;

/** The log could not be read or written; the message says what failed and what to check. */
public final class StorageException extends RuntimeException {
    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }

    public StorageException(String message) {
        super(message);
    }
}
