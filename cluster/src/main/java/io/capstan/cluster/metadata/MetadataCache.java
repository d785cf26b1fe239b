package io.capstan.cluster.metadata;

import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A process's copy of the whole metadata store, kept current by one watch (list once, then changes; the store
 * re-lists on its own when its history has moved on). Brokers, the controller and the operator read this instead of
 * the store, and subscribers hear about exactly the keys that changed: steady state costs the store nothing but the
 * writes themselves. Reads see each key's latest value; a read of several keys may mix moments (as any watch cache).
 * Compare-and-set still goes to the store, naming the version read here; a lost race is seen here shortly after.
 */
public final class MetadataCache implements AutoCloseable {

    /** A key's change: {@code before} null for a new key, {@code after} null for a deleted one. */
    public record Change(String key, Versioned before, Versioned after) {
        public boolean isDelete() {
            return after == null;
        }
    }

    private record Subscription(String prefix, Consumer<Change> listener) {}

    private final MetadataStore store;
    private final ConcurrentSkipListMap<String, Versioned> entries = new ConcurrentSkipListMap<>();
    private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    private volatile long revision;
    private volatile boolean synced;
    private final AutoCloseable watch;

    private MetadataCache(MetadataStore store) {
        this.store = store;
        this.watch = store.watch("", new MetadataListener() {
            @Override
            public void changed(WatchEvent event) {
                apply(event);
            }

            @Override
            public void synced() {
                markSynced();
            }
        });
    }

    /** Starts the watch and waits until the first listing is in (so reads right after see the whole store). */
    public static MetadataCache open(MetadataStore store, Duration syncTimeout) {
        MetadataCache cache = new MetadataCache(store);
        try {
            cache.awaitSynced(syncTimeout);
        } catch (RuntimeException e) {
            cache.close();
            throw e;
        }
        return cache;
    }

    private synchronized void awaitSynced(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!synced) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IllegalStateException("the metadata store did not answer its first listing within " + timeout
                        + "; check that it is reachable (Kubernetes: the API server and this pod's RBAC for configmaps)");
            }
            waitNanos(left);
        }
    }

    private synchronized void markSynced() {
        synced = true;
        notifyAll();
    }

    private synchronized void apply(WatchEvent event) {
        String key = event.key();
        Versioned before = entries.get(key);
        Versioned after = event.type() == WatchEvent.Type.DELETED ? null : event.value();
        if (after == null) {
            entries.remove(key);
        } else {
            entries.put(key, after);
        }
        revision = Math.max(revision, event.value().version());
        if (before == null && after == null) {
            notifyAll();
            return;
        }
        Change change = new Change(key, before, after);
        for (Subscription s : subscriptions) {
            if (key.startsWith(s.prefix())) {
                s.listener().accept(change);
            }
        }
        notifyAll();
    }

    public Optional<Versioned> get(String key) {
        return Optional.ofNullable(entries.get(key));
    }

    /** Every key under the prefix, sorted: a live read-only view. */
    public SortedMap<String, Versioned> under(String prefix) {
        return Collections.unmodifiableSortedMap(prefix.isEmpty() ? entries : entries.subMap(prefix, prefix + Character.MAX_VALUE));
    }

    /**
     * Calls the listener with every key under the prefix now (as new keys) and then with each change, on the store's
     * watch thread, in order. The listener must not block: hand the work to a thread of your own.
     */
    public synchronized AutoCloseable subscribe(String prefix, Consumer<Change> listener) {
        Subscription s = new Subscription(prefix, listener);
        under(prefix).values().forEach(v -> listener.accept(new Change(v.key(), null, v)));
        subscriptions.add(s);
        return () -> subscriptions.remove(s);
    }

    /**
     * Waits until this cache has seen the store at {@code version} or later (a version this process just wrote, so
     * that its next read includes its own write). False on timeout.
     */
    public synchronized boolean awaitRevision(long version, Duration timeout) {
        return awaitUntil(() -> revision >= version, timeout);
    }

    /**
     * Waits until this cache no longer holds {@code key} (a key this process just deleted, so that its next read leaves
     * it out). False on timeout.
     */
    public synchronized boolean awaitAbsent(String key, Duration timeout) {
        return awaitUntil(() -> get(key).isEmpty(), timeout);
    }

    /** Waits, holding this cache's monitor (each applied change wakes it), until {@code done}; false on timeout. */
    private boolean awaitUntil(java.util.function.BooleanSupplier done, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            waitNanos(left);
        }
        return true;
    }

    private void waitNanos(long nanos) {
        try {
            TimeUnit.NANOSECONDS.timedWait(this, nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the metadata cache", e);
        }
    }

    /** The newest store revision this cache has applied. */
    public long revision() { return revision; }

    public MetadataStore store() { return store; }

    @Override
    public void close() {
        try {
            watch.close();
        } catch (Exception e) {
            // closing anyway: nothing is delivered after this
        }
        subscriptions.clear();
    }
}
