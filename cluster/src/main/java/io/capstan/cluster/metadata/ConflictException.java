package io.capstan.cluster.metadata;

/** A compare-and-set lost: the key changed (or appeared, or vanished) since the caller read it. Re-read and retry. */
public final class ConflictException extends Exception {
    public ConflictException(String message) {
        super(message);
    }
}
