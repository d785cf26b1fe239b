package io.capstan.cluster.metadata;

/** A change seen by a watch; for DELETED, {@code value} is the last version seen. */
public record WatchEvent(Type type, Versioned value) {
    public enum Type { CREATED, UPDATED, DELETED }
}
