package io.capstan.cluster.view;

import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.MetadataCache;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.ShardId;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.ShardStore;
import io.capstan.cluster.metadata.VersionedShard;
import io.capstan.cluster.metadata.TopicRecord;
import io.capstan.cluster.metadata.Versioned;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster as the metadata cache shows it, decoded once per change: brokers, topics, and shards with the
 * version that their compare-and-set must name. Listeners hear which broker, topic or shard changed (and how), so brokers and
 * the controller work on what changed instead of re-reading everything. Each entry is current; entries read together
 * may be from slightly different moments.
 */
public final class ClusterView implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterView.class);

    /** A shard's state and its own version (what its compare-and-set names, see {@link ShardStore}). */
    public record Shard(ShardState state, long version) {}

    /** Told of each change on the metadata watch thread, in order; must not block. */
    public interface Listener {
        default void brokerChanged(int id, BrokerRegistration before, BrokerRegistration after) {}

        default void topicChanged(String name, TopicRecord before, TopicRecord after) {}

        default void shardChanged(ShardId id, Shard before, Shard after) {}
    }

    private final MetadataCache cache;
    private final LongSupplier clock;
    private final Map<Integer, BrokerRegistration> brokers = new ConcurrentHashMap<>();
    /** When this view saw each broker's current lease arrive, by its own clock. */
    private final Map<Integer, Long> renewedAt = new ConcurrentHashMap<>();
    private final Map<String, TopicRecord> topics = new ConcurrentHashMap<>();
    private final Map<ShardId, Shard> shards = new ConcurrentHashMap<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final AutoCloseable subscription;
    private final ShardStore shardStore;

    public ClusterView(MetadataCache cache, LongSupplier clock) {
        this.cache = cache;
        this.clock = clock;
        this.shardStore = new ShardStore(cache.store(), cache);
        this.subscription = cache.subscribe("", this::changed);
    }

    private synchronized void changed(MetadataCache.Change change) {
        try {
            String key = change.key();
            if (key.startsWith("brokers/")) {
                BrokerRegistration after = decode(change.after(), BrokerRegistration.class);
                BrokerRegistration before = after != null ? brokers.put(after.id(), after) : removeBroker(change.before());
                if (after == null) {
                    renewedAt.remove(before == null ? -1 : before.id());
                } else if (before == null || before.leaseExpiresAtMs() != after.leaseExpiresAtMs()) {
                    renewedAt.put(after.id(), clock.getAsLong());
                }
                listeners.forEach(l -> l.brokerChanged(after != null ? after.id() : before.id(), before, after));
            } else if (key.startsWith("topics/")) {
                TopicRecord after = decode(change.after(), TopicRecord.class);
                TopicRecord before = after != null ? topics.put(after.name(), after) : removeTopic(change.before());
                if (after != null || before != null) {
                    String name = after != null ? after.name() : before.name();
                    listeners.forEach(l -> l.topicChanged(name, before, after));
                }
            } else if (key.startsWith(ShardStore.PREFIX)) {
                shardGroupChanged(change);
            }
        } catch (RuntimeException e) {
            log.warn("cannot apply the metadata change of {}: {}; this key is ignored until it changes again", change.key(), e.toString());
        }
    }

    /** Only the shards of the group whose own version moved are news. */
    private void shardGroupChanged(MetadataCache.Change change) {
        Map<Integer, VersionedShard> before = partitions(change.before());
        Map<Integer, VersionedShard> after = partitions(change.after());
        for (VersionedShard old : before.values()) {
            if (!after.containsKey(old.state().partition())) {
                ShardId id = old.id();
                Shard was = shards.remove(id);
                listeners.forEach(l -> l.shardChanged(id, was, null));
            }
        }
        for (VersionedShard now : after.values()) {
            ShardId id = now.id();
            Shard current = shards.get(id);
            if (current != null && current.version() == now.version() && current.state().equals(now.state())) {
                continue;
            }
            Shard next = new Shard(now.state(), now.version());
            Shard was = shards.put(id, next);
            listeners.forEach(l -> l.shardChanged(id, was, next));
        }
    }

    private static Map<Integer, VersionedShard> partitions(Versioned group) {
        Map<Integer, VersionedShard> out = new java.util.LinkedHashMap<>();
        if (group != null) {
            ShardStore.decode(group.value()).shards().forEach(s -> out.put(s.state().partition(), s));
        }
        return out;
    }

    private BrokerRegistration removeBroker(Versioned before) {
        BrokerRegistration b = decode(before, BrokerRegistration.class);
        return b == null ? null : brokers.remove(b.id());
    }

    private TopicRecord removeTopic(Versioned before) {
        TopicRecord t = decode(before, TopicRecord.class);
        return t == null ? null : topics.remove(t.name());
    }

    private static <T> T decode(Versioned v, Class<T> type) {
        return v == null ? null : MetadataCodec.decode(v.value(), type);
    }

    /** Calls the listener with everything there is now (as new entries), then with each change. */
    public synchronized AutoCloseable subscribe(Listener listener) {
        brokers.values().forEach(b -> listener.brokerChanged(b.id(), null, b));
        topics.values().forEach(t -> listener.topicChanged(t.name(), null, t));
        shards.forEach((id, s) -> listener.shardChanged(id, null, s));
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    public Map<Integer, BrokerRegistration> brokers() { return Collections.unmodifiableMap(brokers); }
    public BrokerRegistration broker(int id) { return brokers.get(id); }
    public Map<String, TopicRecord> topics() { return Collections.unmodifiableMap(topics); }
    public TopicRecord topic(String name) { return topics.get(name); }
    public Map<ShardId, Shard> shards() { return Collections.unmodifiableMap(shards); }

    public Shard shard(ShardId id) { return shards.get(id); }

    /** The shard's state, or null if the cluster has no such shard. */
    public ShardState state(String topic, int partition) {
        Shard s = shards.get(new ShardId(topic, partition));
        return s == null ? null : s.state();
    }

    /**
     * Brokers whose lease holds by this view's own clock: one that has not ended its lease and whose latest renewal
     * arrived here less than its lease ago (Kafka's controller judges heartbeats the same way), so clocks that
     * disagree between machines cost nothing. A view opened now counts every registration as just renewed. A
     * registration that does not say its lease length (an older broker) is judged by the expiry it wrote.
     */
    public List<BrokerRegistration> aliveBrokers() {
        long now = clock.getAsLong();
        return brokers.values().stream().filter(b -> alive(b, now)).toList();
    }

    private boolean alive(BrokerRegistration b, long now) {
        if (b.ended()) {
            return false;
        }
        if (b.leaseMs() <= 0) {
            return b.alive(now);
        }
        Long renewed = renewedAt.get(b.id());
        return renewed != null && now - renewed < b.leaseMs();
    }

    /** When this view saw broker {@code id}'s current lease arrive, by its own clock; null if it has no registration. */
    public Long renewedAt(int id) {
        return renewedAt.get(id);
    }

    /** Whether broker {@code id} is registered and its lease holds (see {@link #aliveBrokers()}). */
    public boolean alive(int id) {
        BrokerRegistration b = brokers.get(id);
        return b != null && alive(b, clock.getAsLong());
    }

    public Set<Integer> aliveBrokerIds() {
        return aliveBrokers().stream().map(BrokerRegistration::id).collect(Collectors.toSet());
    }

    public long now() { return clock.getAsLong(); }
    public MetadataCache cache() { return cache; }
    public MetadataStore store() { return cache.store(); }

    /** Shard writes that start from this view's cache. */
    public ShardStore shardStore() { return shardStore; }

    @Override
    public void close() {
        try {
            subscription.close();
        } catch (Exception ignored) {
            // nothing more is delivered either way
        }
        listeners.clear();
    }
}
