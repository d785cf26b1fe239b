package io.capstan.cluster.metadata;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A local view of store entries kept up to date from two sides: this process's own writes, applied at once, and the
 * watch, which delivers every write (its own included) later. Each entry remembers the store version it came from and
 * a write carrying an older or equal version is ignored, so a watch event still on its way cannot undo a newer local
 * write (found by ResponseThrottleTest in CI: a quota set twice in a row lost its second value for a watch interval).
 * A removal leaves a tombstone at its version for the same reason. Reads are lock-free.
 */
public final class NewestWins<K, V> {
    private record Entry<V>(long version, V value) {}

    private final Map<K, Entry<V>> entries = new ConcurrentHashMap<>();

    /** Sets {@code key} to {@code value} as of store version {@code version}; false if the view holds that version or a newer one. */
    public synchronized boolean put(K key, long version, V value) {
        Objects.requireNonNull(value, "value");
        Entry<V> held = entries.get(key);
        if (held != null && held.version() >= version) {
            return false;
        }
        entries.put(key, new Entry<>(version, value));
        return true;
    }

    /**
     * Removes {@code key}, whose store version {@code version} was deleted; false if the view holds a newer version
     * (created again since) or already knows of the removal. The tombstone keeps {@code version}, so that the deleted
     * write arriving late cannot revive the entry.
     */
    public synchronized boolean remove(K key, long version) {
        Entry<V> held = entries.get(key);
        if (held != null && (held.version() > version || held.version() == version && held.value() == null)) {
            return false;
        }
        entries.put(key, new Entry<>(version, null));
        return true;
    }

    /** The value held for {@code key}, or null if none (never set, or removed). */
    public V get(K key) {
        Entry<V> e = entries.get(key);
        return e == null ? null : e.value();
    }

    /** The values held now (removed entries left out). */
    public Collection<V> values() {
        return entries.values().stream().map(Entry::value).filter(Objects::nonNull).toList();
    }

    /** The keys with a value now. */
    public List<K> keys() {
        return entries.entrySet().stream().filter(e -> e.getValue().value() != null).map(Map.Entry::getKey).toList();
    }
}
