package io.capstan.broker.replica;

import io.capstan.cluster.view.ClusterView;
import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.TopicRecord;
import io.capstan.cluster.metadata.Versioned;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.Uuid;

/**
 * Topic creation and deletion in a cluster: written to the metadata store, from which every broker takes its
 * replicas. Shards are written before the topic record, so a broker that sees the topic sees all its shards.
 */
public final class ClusterTopics {
    private final ClusterView view;

    public ClusterTopics(ClusterView view) {
        this.view = view;
    }

    /** How many brokers are alive, counting from the store itself when the cache shows fewer than {@code wanted}. */
    public int liveBrokers(int wanted) {
        return liveBrokerIds(wanted).size();
    }

    /**
     * Live brokers from the cache; when it shows fewer than {@code wanted}, from the store (a broker that registered a
     * moment ago counts). Only this rare path reads the store.
     */
    private List<Integer> liveBrokerIds(int wanted) {
        List<Integer> cached = view.aliveBrokerIds().stream().sorted().toList();
        if (cached.size() >= wanted) {
            return cached;
        }
        long now = view.now();
        return view.store().list("brokers/").values().stream().map(v -> MetadataCodec.decode(v.value(), BrokerRegistration.class))
                .filter(b -> b.alive(now)).map(BrokerRegistration::id).sorted().toList();
    }

    /** Replicas of each partition: consecutive live brokers starting at a different one per partition (leaders spread). */
    public static List<List<Integer>> assign(List<Integer> brokers, int partitions, int replicationFactor, int seed) {
        List<List<Integer>> out = new ArrayList<>();
        int n = brokers.size();
        for (int p = 0; p < partitions; p++) {
            List<Integer> replicas = new ArrayList<>();
            for (int r = 0; r < replicationFactor; r++) {
                replicas.add(brokers.get(Math.floorMod(seed + p + r, n)));
            }
            out.add(replicas);
        }
        return out;
    }

    /** Creates the topic; throws ConflictException if it exists. Returns its id. */
    public Uuid create(String name, int partitions, int replicationFactor, Map<String, String> configs) throws ConflictException {
        MetadataStore store = view.store();
        if (store.get(TopicRecord.key(name)).isPresent()) {
            throw new ConflictException("topic '" + name + "' already exists");
        }
        List<Integer> brokers = liveBrokerIds(replicationFactor);
        if (brokers.size() < replicationFactor) {
            throw new IllegalArgumentException("replication factor " + replicationFactor + " needs that many live brokers; "
                    + brokers.size() + " are alive");
        }
        Uuid id = Uuid.randomUuid();
        List<List<Integer>> assignment = assign(brokers, partitions, replicationFactor, Math.floorMod(name.hashCode(), Math.max(1, brokers.size())));
        for (int p = 0; p < partitions; p++) {
            List<Integer> replicas = assignment.get(p);
            ShardState shard = new ShardState(name, p, replicas, replicas.get(0), 0, replicas);
            String key = ShardState.key(name, p);
            Optional<Versioned> stale = store.get(key);
            if (stale.isPresent()) {
                store.delete(key, stale.get().version()); // left by a creation that failed half way
            }
            store.create(key, MetadataCodec.encode(shard));
        }
        store.create(TopicRecord.key(name), MetadataCodec.encode(new TopicRecord(name, id.toString(), partitions, replicationFactor, configs)));
        return id;
    }

    /** Deletes the topic record first (brokers then drop their copies), then its shards. */
    public boolean delete(String name) throws ConflictException {
        MetadataStore store = view.store();
        Optional<Versioned> topic = store.get(TopicRecord.key(name));
        if (topic.isEmpty()) {
            return false;
        }
        TopicRecord record = MetadataCodec.decode(topic.get().value(), TopicRecord.class);
        store.delete(TopicRecord.key(name), topic.get().version());
        for (int p = 0; p < record.partitions(); p++) {
            Optional<Versioned> shard = store.get(ShardState.key(name, p));
            if (shard.isPresent()) {
                store.delete(shard.get().key(), shard.get().version());
            }
        }
        return true;
    }

    public Optional<String> nameOf(Uuid id) {
        String wanted = id.toString();
        return view.topics().values().stream().filter(t -> t.topicId().equals(wanted)).map(TopicRecord::name).findFirst();
    }

    /** Read from the store itself, not this broker's possibly older view. */
    public Optional<TopicRecord> topic(String name) {
        return view.store().get(TopicRecord.key(name)).map(v -> MetadataCodec.decode(v.value(), TopicRecord.class));
    }
}
