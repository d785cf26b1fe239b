package io.capstan.broker.replica;

import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.TopicRecord;
import io.capstan.cluster.metadata.Versioned;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import org.apache.kafka.common.TopicPartition;

/**
 * This broker's copy of the cluster metadata (brokers, topics, shards with their store versions), replaced whole on
 * every refresh so readers on network threads always see one consistent snapshot.
 */
public final class ClusterView {
    /** One read of the store. */
    public record Snapshot(Map<Integer, BrokerRegistration> brokers, Map<String, TopicRecord> topics,
                           Map<TopicPartition, Versioned> shardVersions, Map<TopicPartition, ShardState> shards) {
        static final Snapshot EMPTY = new Snapshot(Map.of(), Map.of(), Map.of(), Map.of());

        public List<BrokerRegistration> aliveBrokers(long nowMs) {
            return brokers.values().stream().filter(b -> b.alive(nowMs)).toList();
        }
    }

    private final MetadataStore store;
    private final LongSupplier clock;
    private volatile Snapshot current = Snapshot.EMPTY;

    public ClusterView(MetadataStore store, LongSupplier clock) {
        this.store = store;
        this.clock = clock;
    }

    /** Reads the store and makes that the current snapshot. */
    public Snapshot refresh() {
        Map<Integer, BrokerRegistration> brokers = new TreeMap<>();
        for (Versioned v : store.list("brokers/").values()) {
            BrokerRegistration b = MetadataCodec.decode(v.value(), BrokerRegistration.class);
            brokers.put(b.id(), b);
        }
        Map<String, TopicRecord> topics = new TreeMap<>();
        for (Versioned v : store.list("topics/").values()) {
            TopicRecord t = MetadataCodec.decode(v.value(), TopicRecord.class);
            topics.put(t.name(), t);
        }
        Map<TopicPartition, Versioned> versions = new java.util.HashMap<>();
        Map<TopicPartition, ShardState> shards = new java.util.HashMap<>();
        for (Versioned v : store.list("shards/").values()) {
            ShardState s = MetadataCodec.decode(v.value(), ShardState.class);
            TopicPartition tp = new TopicPartition(s.topic(), s.partition());
            versions.put(tp, v);
            shards.put(tp, s);
        }
        Snapshot next = new Snapshot(brokers, topics, versions, shards);
        current = next;
        return next;
    }

    public Snapshot snapshot() { return current; }
    public long now() { return clock.getAsLong(); }

    public Collection<BrokerRegistration> aliveBrokers() {
        return current.aliveBrokers(clock.getAsLong());
    }

    public BrokerRegistration broker(int id) {
        return current.brokers().get(id);
    }

    public ShardState shard(TopicPartition tp) {
        return current.shards().get(tp);
    }

    public MetadataStore store() { return store; }
}
