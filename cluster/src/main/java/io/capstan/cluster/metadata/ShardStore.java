package io.capstan.cluster.metadata;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Shard states in the metadata store, {@link #GROUP_SIZE} consecutive partitions of a topic to one object
 * ({@link ShardGroup}). Each shard keeps its own version, and a write names the shard's version, not the object's: a
 * write to a group that changed elsewhere (another shard of it) is simply redone on the newer object, while a write
 * whose shard changed is refused, exactly as a compare-and-set on a per-shard object would be. Writes to many shards of
 * one group cost one store write, which is what makes a failover of thousands of shards take seconds
 * (docs/decisions/0011).
 */
public final class ShardStore {
    public static final String PREFIX = "shard-groups/";
    /** Partitions per object: ~15 KB of JSON, far below a ConfigMap's 1 MiB, and 10 objects for a 1,000-partition topic. */
    public static final int GROUP_SIZE = 100;
    private static final int ATTEMPTS = 20;

    /** Sets one shard to {@code next} if its version is still {@code expectedVersion}. */
    public record Write(ShardState next, long expectedVersion) {
        public ShardId id() {
            return new ShardId(next.topic(), next.partition());
        }
    }

    private final MetadataStore store;
    private final MetadataCache cache;

    /** Reads what it writes over from the store. */
    public ShardStore(MetadataStore store) {
        this(store, null);
    }

    /** Starts each write from the cache's copy of the group (a stale copy costs one conflict and one read). */
    public ShardStore(MetadataStore store, MetadataCache cache) {
        this.store = store;
        this.cache = cache;
    }

    public static String groupKey(String topic, int partition) {
        return PREFIX + topic + "/" + partition / GROUP_SIZE;
    }

    public static ShardGroup decode(byte[] value) {
        return MetadataCodec.decode(value, ShardGroup.class);
    }

    public Optional<VersionedShard> get(String topic, int partition) {
        return store.get(groupKey(topic, partition)).flatMap(v -> decode(v.value()).shards().stream()
                .filter(s -> s.state().partition() == partition).findFirst());
    }

    /** Every shard of the cluster, read from the store. */
    public List<VersionedShard> list() {
        return shardsOf(store.list(PREFIX).values());
    }

    /** Every shard of one topic, read from the store. */
    public List<VersionedShard> list(String topic) {
        return shardsOf(store.list(PREFIX + topic + "/").values());
    }

    private static List<VersionedShard> shardsOf(Collection<Versioned> groups) {
        List<VersionedShard> out = new ArrayList<>();
        groups.forEach(g -> out.addAll(decode(g.value()).shards()));
        return out;
    }

    /** One shard's compare-and-set; returns its new version, ConflictException if the shard changed or does not exist. */
    public long compareAndSet(ShardState next, long expectedVersion) throws ConflictException {
        Write write = new Write(next, expectedVersion);
        Long version = writeGroup(groupKey(next.topic(), next.partition()), List.of(write)).get(write.id());
        if (version == null) {
            throw new ConflictException(write.id() + " is no longer at version " + expectedVersion);
        }
        return version;
    }

    /**
     * Many shards at once, one store write per group (one after another; callers that want them in parallel hand each
     * group's writes to a thread of their own, see {@link #byGroup}). Returns the new version of every shard written;
     * a shard that changed meanwhile is left out. A store failure is thrown.
     */
    public Map<ShardId, Long> compareAndSetAll(Collection<Write> writes) {
        Map<ShardId, Long> out = new HashMap<>();
        byGroup(writes).forEach((key, group) -> out.putAll(writeGroup(key, group)));
        return out;
    }

    /** The writes by the object they go to. */
    public static Map<String, List<Write>> byGroup(Collection<Write> writes) {
        Map<String, List<Write>> out = new LinkedHashMap<>();
        writes.forEach(w -> out.computeIfAbsent(groupKey(w.next().topic(), w.next().partition()), k -> new ArrayList<>()).add(w));
        return out;
    }

    /**
     * Writes of one group: redone on a newer object as long as the shards written are still at their versions. Returns
     * the new version of each shard written; a shard that changed (or is gone) is left out. Throws if the group kept
     * changing for every attempt (nothing written) or the store failed (maybe written: the watch will tell).
     */
    public Map<ShardId, Long> writeGroup(String key, List<Write> writes) {
        Optional<Versioned> current = cache != null ? cache.get(key) : Optional.empty();
        if (current.isEmpty()) {
            current = store.get(key);
        }
        for (int attempt = 0; attempt < ATTEMPTS && current.isPresent(); attempt++) {
            ShardGroup group = decode(current.get().value());
            Map<Integer, VersionedShard> shards = new LinkedHashMap<>();
            group.shards().forEach(s -> shards.put(s.state().partition(), s));
            Map<ShardId, Long> written = new HashMap<>();
            for (Write w : writes) {
                VersionedShard now = shards.get(w.next().partition());
                if (now != null && now.version() == w.expectedVersion()) {
                    shards.put(w.next().partition(), new VersionedShard(w.next(), now.version() + 1));
                    written.put(w.id(), now.version() + 1);
                }
            }
            if (written.isEmpty()) {
                return written;
            }
            try {
                store.compareAndSet(key, current.get().version(),
                        MetadataCodec.encode(new ShardGroup(group.topic(), group.group(), new ArrayList<>(shards.values()))));
                return written;
            } catch (ConflictException otherShardChanged) {
                current = store.get(key);
            }
        }
        if (current.isEmpty()) {
            return Map.of(); // the topic is gone: none of its shards was written
        }
        // not one of these shards changed, yet the group kept changing under every attempt: nothing was written, and
        // nothing will come of the watch to say so, so the caller must try again (as after a failed store call)
        throw new IllegalStateException(key + " kept changing over " + ATTEMPTS + " attempts; nothing written");
    }

    /** Stores a new topic's shards (version 1 each); ConflictException if any group exists ({@link #createGroup}). */
    public void create(List<ShardState> shards) throws ConflictException {
        for (Map.Entry<String, List<VersionedShard>> g : newGroups(shards).entrySet()) {
            createGroup(g.getKey(), g.getValue());
        }
    }

    /** A new topic's shards (version 1 each) by the object they go to, for callers that create the groups in parallel. */
    public static Map<String, List<VersionedShard>> newGroups(List<ShardState> shards) {
        Map<String, List<VersionedShard>> groups = new LinkedHashMap<>();
        shards.forEach(s -> groups.computeIfAbsent(groupKey(s.topic(), s.partition()), k -> new ArrayList<>()).add(new VersionedShard(s, 1)));
        return groups;
    }

    /**
     * Stores new shards of an existing topic (CreatePartitions; version 1 each): added to the group objects that exist,
     * new groups created. A shard already there at or past {@code firstNew} is a leftover of an earlier attempt that
     * stopped before the topic record grew (brokers ignore shards past the record's count) and is replaced.
     */
    public void add(List<ShardState> shards, int firstNew) throws ConflictException {
        for (Map.Entry<String, List<VersionedShard>> g : newGroups(shards).entrySet()) {
            for (int attempt = 0; ; attempt++) {
                Optional<Versioned> current = store.get(g.getKey());
                if (current.isEmpty()) {
                    createGroup(g.getKey(), g.getValue());
                    break;
                }
                ShardGroup group = decode(current.get().value());
                List<VersionedShard> kept = new ArrayList<>(group.shards().stream().filter(s -> s.state().partition() < firstNew).toList());
                kept.addAll(g.getValue());
                try {
                    store.compareAndSet(g.getKey(), current.get().version(), MetadataCodec.encode(new ShardGroup(group.topic(), group.group(), kept)));
                    break;
                } catch (ConflictException changed) {
                    if (attempt >= ATTEMPTS) {
                        throw changed; // a shard of this group kept changing (leader moves): the caller may retry
                    }
                }
            }
        }
    }

    /**
     * One group of a new topic (callers creating many groups may run these in parallel). A group that exists already
     * is left alone: another broker may be creating the same topic this moment (replacing its group made the two
     * creations undo each other, leaving shards without a topic record; found when every broker created the
     * transaction-log shard at once). A group left by a creation or deletion that stopped half way is removed by the
     * controller once its topic record has been gone for its grace period; until then the creation is refused.
     */
    public void createGroup(String key, List<VersionedShard> shards) throws ConflictException {
        ShardState first = shards.get(0).state();
        byte[] value = MetadataCodec.encode(new ShardGroup(first.topic(), first.partition() / GROUP_SIZE, shards));
        try {
            store.create(key, value);
        } catch (ConflictException exists) {
            throw new ConflictException("shards of topic '" + first.topic() + "' exist already: it is being created, or a creation or "
                    + "deletion stopped half way (the controller removes those shards after a grace period); retry later");
        }
    }

    /**
     * Removes every shard of the topic. A group written meanwhile (a leader moving its shard, an ISR change) is read
     * again and deleted at its new version: giving up there left shards of a deleted topic behind for good, found by
     * the soak (the controller went on electing leaders for them, and a broker on a new disk reported their records lost).
     */
    public void delete(String topic) throws ConflictException {
        for (Versioned group : store.list(PREFIX + topic + "/").values()) {
            Optional<Versioned> current = Optional.of(group);
            for (int attempt = 1; current.isPresent(); attempt++) {
                try {
                    store.delete(group.key(), current.get().version());
                    break;
                } catch (ConflictException changed) {
                    if (attempt >= ATTEMPTS) {
                        throw changed;
                    }
                    current = store.get(group.key());
                }
            }
        }
    }
}
