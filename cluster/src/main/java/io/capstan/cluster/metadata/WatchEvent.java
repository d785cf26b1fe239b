package io.capstan.cluster.metadata;

/**
 * A change seen by a watch. {@code value.version()} is the store revision of the change; for DELETED that is the
 * revision of the delete and {@code value.value()} may be empty (the store need not remember what it deleted).
 */
public record WatchEvent(Type type, Versioned value) {
    public enum Type { CREATED, UPDATED, DELETED }

    public String key() {
        return value.key();
    }

    public static WatchEvent deleted(String key, long revision) {
        return new WatchEvent(Type.DELETED, new Versioned(key, revision, new byte[0]));
    }
}
