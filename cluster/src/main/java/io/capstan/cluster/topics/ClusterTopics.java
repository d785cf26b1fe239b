package io.capstan.cluster.topics;

import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.ShardStore;
import io.capstan.cluster.metadata.VersionedShard;
import io.capstan.cluster.metadata.TopicRecord;
import io.capstan.cluster.metadata.Versioned;
import io.capstan.cluster.planner.AssignmentPlanner;
import io.capstan.cluster.view.ClusterView;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Topic creation and deletion in a cluster: written to the metadata store, from which every broker takes its
 * replicas. Replicas are placed by the {@link AssignmentPlanner} (racks spread, least-loaded brokers first, leaders
 * spread), the same rule the operator uses when brokers come and go. Shards are written before the topic record, so a
 * broker that sees the topic sees all its shards.
 */
public final class ClusterTopics {
    private static final int PARALLEL_WRITES = 16;
    private static final int RECONFIGURE_ATTEMPTS = 100;
    private final ClusterView view;

    public ClusterTopics(ClusterView view) {
        this.view = view;
    }

    /** How many brokers are alive, counting from the store itself when the cache shows fewer than {@code wanted}. */
    public int liveBrokers(int wanted) {
        return aliveBrokers(wanted).size();
    }

    /**
     * Live brokers from the cache; when it shows fewer than {@code wanted}, from the store (a broker that registered a
     * moment ago counts). Only this rare path reads the store.
     */
    private List<BrokerRegistration> aliveBrokers(int wanted) {
        List<BrokerRegistration> cached = view.aliveBrokers();
        if (cached.size() >= wanted) {
            return cached;
        }
        long now = view.now();
        return RegisteredBrokers.read(view.store()).stream().filter(b -> b.alive(now)).toList();
    }

    /**
     * Where a new topic's replicas go, leader first: the planner's choice given every shard the cluster already has
     * (so new replicas land on the least-loaded brokers) and the brokers' racks.
     */
    public static Map<Integer, List<Integer>> place(String topic, int partitions, int replicationFactor, List<BrokerRegistration> brokers,
                                                    Iterable<ShardState> existing) {
        Map<AssignmentPlanner.ShardId, List<Integer>> current = new HashMap<>();
        Map<AssignmentPlanner.ShardId, Integer> factors = new HashMap<>();
        for (ShardState s : existing) {
            AssignmentPlanner.ShardId id = new AssignmentPlanner.ShardId(s.topic(), s.partition());
            current.put(id, s.targetReplicas());
            factors.put(id, s.targetReplicas().size());
        }
        for (int p = 0; p < partitions; p++) {
            factors.put(new AssignmentPlanner.ShardId(topic, p), replicationFactor);
        }
        List<AssignmentPlanner.Broker> candidates = brokers.stream().map(b -> new AssignmentPlanner.Broker(b.id(), b.rack())).toList();
        Map<AssignmentPlanner.ShardId, List<Integer>> plan = AssignmentPlanner.plan(candidates, current, factors);
        Map<Integer, List<Integer>> out = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            out.put(p, plan.get(new AssignmentPlanner.ShardId(topic, p)));
        }
        return out;
    }

    /**
     * Creates the topic with the given id (the Kafka API makes one); throws ConflictException if it exists and
     * IllegalArgumentException if fewer brokers are alive than the replication factor. Returns the store revision
     * that holds the whole topic (a view that has reached it shows every shard).
     */
    public long create(String name, String id, int partitions, int replicationFactor, Map<String, String> configs) throws ConflictException {
        MetadataStore store = view.store();
        if (store.get(TopicRecord.key(name)).isPresent()) {
            throw new ConflictException("topic '" + name + "' already exists");
        }
        List<BrokerRegistration> brokers = aliveBrokers(replicationFactor);
        if (brokers.size() < replicationFactor) {
            throw new IllegalArgumentException("replication factor " + replicationFactor + " needs that many live brokers; "
                    + brokers.size() + " are alive");
        }
        Map<Integer, List<Integer>> assignment = place(name, partitions, replicationFactor, brokers,
                view.shards().values().stream().map(ClusterView.Shard::state).toList());
        List<ShardState> states = new java.util.ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            List<Integer> replicas = assignment.get(p);
            states.add(new ShardState(name, p, replicas, replicas.get(0), 0, replicas));
        }
        return register(store, new TopicRecord(name, id, partitions, replicationFactor, configs), states);
    }

    /**
     * Creates a topic whose replicas the caller chose (Kafka's CreateTopics with assignments, {@code kafka-topics
     * --replica-assignment}): partition p gets {@code replicas.get(p)}, led by its first replica. IllegalArgumentException
     * says what is wrong with the assignment ({@link #assignmentProblem}).
     */
    public long create(String name, String id, List<List<Integer>> replicas, Map<String, String> configs) throws ConflictException {
        MetadataStore store = view.store();
        if (store.get(TopicRecord.key(name)).isPresent()) {
            throw new ConflictException("topic '" + name + "' already exists");
        }
        String problem = assignmentProblem(replicas, registeredBrokers());
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        List<ShardState> states = new java.util.ArrayList<>();
        for (int p = 0; p < replicas.size(); p++) {
            states.add(new ShardState(name, p, List.copyOf(replicas.get(p)), replicas.get(p).get(0), 0, List.copyOf(replicas.get(p))));
        }
        return register(store, new TopicRecord(name, id, replicas.size(), replicas.get(0).size(), configs), states);
    }

    /** Every registered broker's id, alive or not: a manual assignment may name one that is restarting, as in Kafka. */
    public java.util.Set<Integer> registeredBrokers() {
        java.util.Set<Integer> ids = new java.util.TreeSet<>();
        RegisteredBrokers.read(view.store()).forEach(b -> ids.add(b.id()));
        return ids;
    }

    /**
     * What is wrong with a manual assignment, in Kafka's words where it has them, or null: every partition needs at
     * least one replica, all the same number, no broker twice, and only brokers that are registered.
     */
    public static String assignmentProblem(List<List<Integer>> replicas, java.util.Set<Integer> registered) {
        if (replicas.isEmpty()) {
            return "the assignment names no partition";
        }
        int factor = replicas.get(0).size();
        for (int p = 0; p < replicas.size(); p++) {
            List<Integer> r = replicas.get(p);
            if (r.isEmpty()) {
                return "partition " + p + " has no replica";
            }
            if (r.size() != factor) {
                return "All partitions should have the same number of replicas: partition " + p + " has " + r.size() + ", partition 0 " + factor;
            }
            if (new java.util.HashSet<>(r).size() != r.size()) {
                return "Duplicate brokers not allowed in replica assignment: " + r + " for partition " + p;
            }
            for (int b : r) {
                if (!registered.contains(b)) {
                    return "The manual partition assignment includes broker " + b + ", but no such broker is registered";
                }
            }
        }
        return null;
    }

    /**
     * Writes a topic whose shards are already decided: the shards first, the topic record last (brokers act on a topic
     * once its record appears, and by then every shard is there). ConflictException if any of it exists.
     */
    public static long register(MetadataStore store, TopicRecord topic, List<ShardState> states) throws ConflictException {
        ShardStore shards = new ShardStore(store);
        List<Map.Entry<String, List<VersionedShard>>> writes = List.copyOf(ShardStore.newGroups(states).entrySet());
        inParallel(writes.size(), i -> shards.createGroup(writes.get(i).getKey(), writes.get(i).getValue()));
        long revision = store.create(TopicRecord.key(topic.name()), MetadataCodec.encode(topic));
        // shards without a record for minutes are taken for a deletion's leftovers and removed by the controller: a
        // creation that stalled that long between the two finds them gone, and is undone rather than left shardless
        if (store.list(ShardStore.PREFIX + topic.name() + "/").size() < writes.size()) {
            store.delete(TopicRecord.key(topic.name()), revision);
            throw new ConflictException("creating topic '" + topic.name() + "' stalled for minutes and its shards were removed"
                    + " meanwhile; create it again");
        }
        return revision;
    }

    /**
     * Grows a topic to {@code total} partitions (Kafka's CreatePartitions): the new shards are placed as a new topic's
     * would be (or where {@code assignments} says, one replica list per new partition, leader first), written first,
     * and the topic record's count raised last, so that brokers see every new shard once they see the count. Throws
     * IllegalArgumentException with Kafka's message when the count does not grow, ConflictException when the topic
     * changed meanwhile in a way that decides the answer; empty if there is no such topic. Returns the revision.
     */
    public java.util.OptionalLong addPartitions(String name, int total, List<List<Integer>> assignments) throws ConflictException {
        MetadataStore store = view.store();
        Optional<Versioned> current = store.get(TopicRecord.key(name));
        if (current.isEmpty()) {
            return java.util.OptionalLong.empty();
        }
        TopicRecord topic = MetadataCodec.decode(current.get().value(), TopicRecord.class);
        int was = topic.partitions();
        if (total < was) {
            throw new IllegalArgumentException("Topic currently has " + was + " partitions, which is higher than the requested " + total + ".");
        }
        if (total == was) {
            throw new IllegalArgumentException("Topic already has " + was + " partitions.");
        }
        List<BrokerRegistration> brokers = aliveBrokers(topic.replicationFactor());
        Map<Integer, List<Integer>> placed = assignments == null
                ? place(name, total, topic.replicationFactor(), brokers, view.shards().values().stream()
                        .map(ClusterView.Shard::state).filter(s -> !s.topic().equals(name) || s.partition() < was).toList())
                : null;
        List<ShardState> states = new java.util.ArrayList<>();
        for (int p = was; p < total; p++) {
            List<Integer> replicas = assignments == null ? placed.get(p) : assignments.get(p - was);
            if (replicas == null || replicas.isEmpty()) {
                throw new IllegalArgumentException("replication factor " + topic.replicationFactor() + " needs that many live brokers; "
                        + brokers.size() + " are alive");
            }
            states.add(new ShardState(name, p, replicas, replicas.get(0), 0, replicas));
        }
        new ShardStore(store).add(states, was);
        for (int attempt = 0; attempt < RECONFIGURE_ATTEMPTS; attempt++) {
            Optional<Versioned> now = attempt == 0 ? current : store.get(TopicRecord.key(name));
            if (now.isEmpty()) {
                return java.util.OptionalLong.empty();
            }
            TopicRecord latest = MetadataCodec.decode(now.get().value(), TopicRecord.class);
            if (latest.partitions() != was || !latest.topicId().equals(topic.topicId())) {
                throw new ConflictException("topic " + name + " changed while its partitions were being added (now "
                        + latest.partitions() + " partitions); describe it and retry");
            }
            TopicRecord grown = new TopicRecord(name, latest.topicId(), total, latest.replicationFactor(), latest.configs());
            try {
                return java.util.OptionalLong.of(store.compareAndSet(TopicRecord.key(name), now.get().version(), MetadataCodec.encode(grown)));
            } catch (ConflictException lost) {
                Thread.onSpinWait(); // a config change won: grow on top of it
            }
        }
        throw new ConflictException("gave up adding partitions to topic " + name + " after " + RECONFIGURE_ATTEMPTS + " lost races");
    }

    /** Every shard the cluster has, as this broker's view knows them (for cluster-wide limits). */
    public int knownPartitions() {
        return view.shards().size();
    }

    /**
     * Writes the topic's configs as {@code change} makes them from the current ones, by compare-and-set on the topic
     * record (re-read and re-applied on a lost race, so concurrent changes of different keys both land). Returns the
     * store revision holding the change, or empty if there is no such topic. Exceptions {@code change} throws (a
     * refused value) pass through with nothing written.
     */
    public java.util.OptionalLong reconfigure(String name, java.util.function.UnaryOperator<Map<String, String>> change) throws ConflictException {
        MetadataStore store = view.store();
        for (int attempt = 0; attempt < RECONFIGURE_ATTEMPTS; attempt++) {
            Optional<Versioned> current = store.get(TopicRecord.key(name));
            if (current.isEmpty()) {
                return java.util.OptionalLong.empty();
            }
            TopicRecord topic = MetadataCodec.decode(current.get().value(), TopicRecord.class);
            TopicRecord next = new TopicRecord(topic.name(), topic.topicId(), topic.partitions(), topic.replicationFactor(),
                    change.apply(topic.configs()));
            try {
                return java.util.OptionalLong.of(store.compareAndSet(TopicRecord.key(name), current.get().version(), MetadataCodec.encode(next)));
            } catch (ConflictException lost) {
                Thread.onSpinWait(); // another change of this topic won: apply ours to its result
            }
        }
        throw new ConflictException("gave up changing the configs of topic " + name + " after " + RECONFIGURE_ATTEMPTS + " lost races");
    }

    /** Deletes the topic record first (brokers then drop their copies), then its shards. */
    public boolean delete(String name) throws ConflictException {
        MetadataStore store = view.store();
        Optional<Versioned> topic = store.get(TopicRecord.key(name));
        if (topic.isEmpty()) {
            return false;
        }
        store.delete(TopicRecord.key(name), topic.get().version());
        new ShardStore(store).delete(name);
        return true;
    }

    private interface GroupWrite {
        void run(int group) throws ConflictException;
    }

    /**
     * One write per group of shards, several at once (a 10,000-partition topic is 100 objects). A failure is thrown
     * (the first in group order); writes not yet done are abandoned.
     */
    private static void inParallel(int groups, GroupWrite write) throws ConflictException {
        if (groups == 1) {
            write.run(0);
            return;
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(Math.min(PARALLEL_WRITES, groups),
                io.capstan.cluster.DaemonThreads.named("capstan-topic-write"));
        try {
            List<java.util.concurrent.Future<Void>> done = new java.util.ArrayList<>();
            for (int g = 0; g < groups; g++) {
                int group = g;
                done.add(pool.submit(() -> {
                    write.run(group);
                    return null;
                }));
            }
            for (java.util.concurrent.Future<Void> f : done) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof ConflictException c) {
                        throw c;
                    }
                    throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing shards", e);
        } finally {
            pool.shutdownNow();
        }
    }

    /** The name of the topic with this id, as the cache knows it. */
    public Optional<String> nameOf(String id) {
        return view.topics().values().stream().filter(t -> t.topicId().equals(id)).map(TopicRecord::name).findFirst();
    }

    /** As this broker's view knows it (no store read), or null. */
    public TopicRecord known(String name) {
        return view.topic(name);
    }

    /** Read from the store itself, not this broker's possibly older view. */
    public Optional<TopicRecord> topic(String name) {
        return view.store().get(TopicRecord.key(name)).map(v -> MetadataCodec.decode(v.value(), TopicRecord.class));
    }
}
