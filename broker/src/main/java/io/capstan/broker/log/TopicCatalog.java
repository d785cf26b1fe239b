package io.capstan.broker.log;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * Topics and their shards, persisted in the meta column family and mirrored in memory for lookups by name or id.
 * Creation and deletion are synchronous and fsynced: they are rare and must survive a crash.
 */
public final class TopicCatalog {
    private static final String TOPIC_PREFIX = "topic/";
    private static final String NEXT_SHARD_KEY = "next-shard-key";

    private final LogStore store;
    private final ShardRecovery recovery;
    private final GroupCommitAppender appender;
    private final Map<String, TopicMeta> byName = new ConcurrentHashMap<>();
    private final Map<Uuid, TopicMeta> byId = new ConcurrentHashMap<>();
    private final Map<TopicPartition, Shard> shards = new ConcurrentHashMap<>();
    private final java.util.Set<String> deleting = new java.util.HashSet<>();
    private int nextShardKey;

    TopicCatalog(LogStore store, ShardRecovery recovery, GroupCommitAppender appender) {
        this.store = store;
        this.recovery = recovery;
        this.appender = appender;
    }

    /** Loads every topic and recovers its shards; runs once before the broker is ready. */
    void load() {
        byte[] next = store.getMeta(NEXT_SHARD_KEY);
        nextShardKey = next == null ? 1 : Integer.parseInt(new String(next, StandardCharsets.UTF_8));
        byte[] prefix = LogStore.bytes(TOPIC_PREFIX);
        byte[] end = LogStore.bytes("topic0"); // '0' follows '/' in ASCII: first key after the prefix
        try (LogStore.RangeIterator range = store.iterate(store.metaFamily(), prefix, end)) {
            RocksIterator it = range.it();
            for (it.seekToFirst(); it.isValid(); it.next()) {
                register(TopicMeta.decode(it.value()));
            }
            range.check();
        }
        shardsChanged();
    }

    /** Every shard's tail cache to its share of the broker-wide bound for the shards there are now. */
    private void shardsChanged() {
        recovery.tailCache().shards(shards.size());
        for (Shard shard : shards.values()) {
            shard.tail().trim();
        }
    }

    private void register(TopicMeta topic) {
        for (int p = 0; p < topic.partitions(); p++) {
            TopicPartition tp = new TopicPartition(topic.name(), p);
            shards.put(tp, recovery.recover(tp, topic.shardKeys().get(p)));
        }
        byName.put(topic.name(), topic);
        byId.put(topic.id(), topic);
    }

    public TopicMeta create(String name, int partitions, Map<String, String> configs) {
        return create(name, Uuid.randomUuid(), partitions, configs);
    }

    public synchronized TopicMeta create(String name, Uuid id, int partitions, Map<String, String> configs) {
        if (byName.containsKey(name)) {
            throw new TopicExistsException("topic " + name + " already exists");
        }
        List<Integer> keys = new ArrayList<>();
        for (int i = 0; i < partitions; i++) {
            keys.add(nextShardKey + i);
        }
        TopicMeta topic = new TopicMeta(name, id, keys, configs);
        try (WriteBatch batch = new WriteBatch()) {
            batch.put(store.metaFamily(), LogStore.bytes(TOPIC_PREFIX + name), topic.encode());
            batch.put(store.metaFamily(), LogStore.bytes(NEXT_SHARD_KEY), LogStore.bytes(String.valueOf(nextShardKey + partitions)));
            store.write(batch, true);
        } catch (RocksDBException e) {
            throw new StorageException("cannot persist topic " + name + ": " + e.getMessage(), e);
        }
        nextShardKey += partitions;
        register(topic);
        shardsChanged();
        return topic;
    }

    /**
     * The topic grown to {@code partitions} shards (CreatePartitions): the new ones get fresh storage keys, empty logs,
     * and are persisted with the topic before they are served. Fewer than it has already is left alone.
     */
    public synchronized void grow(String name, int partitions) {
        TopicMeta topic = byName.get(name);
        if (topic == null || topic.partitions() >= partitions) {
            return;
        }
        List<Integer> keys = new ArrayList<>(topic.shardKeys());
        for (int p = topic.partitions(); p < partitions; p++) {
            keys.add(nextShardKey + p - topic.partitions());
        }
        int added = partitions - topic.partitions();
        TopicMeta next = new TopicMeta(name, topic.id(), keys, topic.configs());
        try (WriteBatch batch = new WriteBatch()) {
            batch.put(store.metaFamily(), LogStore.bytes(TOPIC_PREFIX + name), next.encode());
            batch.put(store.metaFamily(), LogStore.bytes(NEXT_SHARD_KEY), LogStore.bytes(String.valueOf(nextShardKey + added)));
            store.write(batch, true);
        } catch (RocksDBException e) {
            throw new StorageException("cannot persist the new partitions of topic " + name + ": " + e.getMessage(), e);
        }
        nextShardKey += added;
        for (int p = topic.partitions(); p < partitions; p++) {
            TopicPartition tp = new TopicPartition(name, p);
            shards.put(tp, recovery.recover(tp, keys.get(p)));
        }
        byName.put(name, next);
        byId.put(next.id(), next);
        shardsChanged();
    }

    /**
     * The topic's configs as the cluster now has them (after an AlterConfigs): persisted, then seen by every later
     * produce, fetch and retention pass. A topic not here (deleted meanwhile) is left alone.
     */
    public synchronized void reconfigure(String name, Map<String, String> configs) {
        TopicMeta topic = byName.get(name);
        if (topic == null || topic.configs().equals(configs)) {
            return;
        }
        TopicMeta next = new TopicMeta(name, topic.id(), topic.shardKeys(), configs);
        try (WriteBatch batch = new WriteBatch()) {
            batch.put(store.metaFamily(), LogStore.bytes(TOPIC_PREFIX + name), next.encode());
            store.write(batch, true);
        } catch (RocksDBException e) {
            throw new StorageException("cannot persist the configs of topic " + name + ": " + e.getMessage(), e);
        }
        byName.put(name, next);
        byId.put(next.id(), next);
    }

    /**
     * Removes the topic and all its data in one write, made by the committer so that it is ordered with appends;
     * appends queued after it fail with UNKNOWN_TOPIC_OR_PARTITION. Completes once the removal is durable, without
     * blocking the caller (requests arrive on network threads).
     */
    public synchronized CompletableFuture<Void> delete(String name) {
        TopicMeta topic = byName.get(name);
        if (topic == null || deleting.contains(name)) {
            return CompletableFuture.failedFuture(new UnknownTopicException("topic " + name + " does not exist"));
        }
        deleting.add(name);
        List<Shard> dropped = new ArrayList<>();
        for (int p = 0; p < topic.partitions(); p++) {
            dropped.add(shards.get(new TopicPartition(name, p)));
        }
        return appender.drop(LogStore.bytes(TOPIC_PREFIX + name), dropped).handle((ok, failure) -> {
            synchronized (this) {
                deleting.remove(name);
                if (failure != null) {
                    throw new StorageException("cannot delete topic " + name + ": " + failure.getMessage(), failure);
                }
                byName.remove(name);
                byId.remove(topic.id());
                for (int p = 0; p < topic.partitions(); p++) {
                    shards.remove(new TopicPartition(name, p));
                }
                shardsChanged();
                return null;
            }
        });
    }

    public TopicMeta topic(String name) { return byName.get(name); }
    public TopicMeta topic(Uuid id) { return byId.get(id); }
    public Collection<TopicMeta> topics() { return byName.values(); }
    public Shard shard(TopicPartition tp) { return shards.get(tp); }
    public Collection<Shard> shards() { return shards.values(); }
}
