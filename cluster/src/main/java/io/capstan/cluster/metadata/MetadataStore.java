package io.capstan.cluster.metadata;

import java.util.Map;
import java.util.Optional;

/**
 * The cluster's metadata: a versioned key-value store with compare-and-set and watches. On Kubernetes the API server
 * backs it (resourceVersion as the version); locally a directory shared by processes on one machine. Nobody
 * overwrites blindly: every change names the version it replaces. Keys are paths like {@code brokers/1}.
 */
public interface MetadataStore extends AutoCloseable {

    Optional<Versioned> get(String key);

    /** Every key under the prefix (a path ending in '/', or "" for all). */
    Map<String, Versioned> list(String prefix);

    /** Creates the key; ConflictException if it exists. Returns the new version. */
    long create(String key, byte[] value) throws ConflictException;

    /** Replaces the value if the key is still at {@code expectedVersion}; returns the new version. */
    long compareAndSet(String key, long expectedVersion, byte[] value) throws ConflictException;

    /** Deletes the key if it is still at {@code expectedVersion}. */
    void delete(String key, long expectedVersion) throws ConflictException;

    /**
     * Lists the prefix and then tells the listener of every change under it, re-listing on its own when the store's
     * history no longer reaches back far enough (see {@link MetadataListener}). Close the returned handle to stop.
     * Brokers and the operator hold one such watch each, through a {@link MetadataCache}, instead of reading the store.
     */
    AutoCloseable watch(String prefix, MetadataListener listener);

    @Override
    void close();
}
