package io.capstan.cluster.metadata;

/**
 * What a watch delivers, always on one store thread and in revision order: first every key under the prefix as
 * CREATED, then {@link #synced()}, then each change. When the store can no longer say what changed since the listener's
 * position (its history was compacted, the watch expired), it lists again and delivers the difference as ordinary
 * events after {@link #relisting()}, so a listener that applies events in order stays equal to the store.
 * Listeners must not block.
 */
public interface MetadataListener {
    void changed(WatchEvent event);

    /** The initial listing has been delivered; later events are changes. */
    default void synced() {}

    /** The watch fell behind what the store remembers and is listing again; the difference follows as events. */
    default void relisting() {}
}
