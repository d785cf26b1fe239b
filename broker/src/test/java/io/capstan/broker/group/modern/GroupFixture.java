package io.capstan.broker.group.modern;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.Uuid;

/** A consumer-protocol group with topics the test changes and a clock it moves. */
final class GroupFixture implements TopicImage {
    static final int SESSION_MS = 10_000;
    static final int REBALANCE_TIMEOUT_MS = 30_000;

    final Map<String, PartitionAssignor.Topic> topics = new TreeMap<>();
    ConsumerGroup group;
    final ConsumerGroupSettings settings;
    long now = 1_000_000_000L;
    /** What the journal made durable: each member's latest record, as the offsets shard keeps it. */
    final Map<String, byte[]> durable = new java.util.LinkedHashMap<>();
    final Journal journal = (g, records) -> {
        records.forEach((id, r) -> {
            if (r == null) {
                durable.remove(id);
            } else {
                durable.put(id, r);
            }
        });
        return java.util.concurrent.CompletableFuture.completedFuture(org.apache.kafka.common.protocol.Errors.NONE);
    };

    GroupFixture(ConsumerGroupSettings settings) {
        this.settings = settings;
        group = new ConsumerGroup("g", settings, this, journal);
    }

    /** The coordinator moves: a new one resumes the group from what the journal holds. */
    void failOver() {
        List<MemberCodec.Stored> stored = new java.util.ArrayList<>();
        durable.values().forEach(r -> stored.add(MemberCodec.decode(java.nio.ByteBuffer.wrap(r))));
        group = ConsumerGroup.restore("g", settings, this, journal, stored, now);
    }

    GroupFixture() {
        this(new ConsumerGroupSettings(SESSION_MS, 1_000, List.of(new UniformAssignor(), new RangeAssignor()), 100));
    }

    Uuid topic(String name, int partitions) {
        PartitionAssignor.Topic existing = topics.get(name);
        Uuid id = existing != null ? existing.id() : Uuid.randomUuid();
        topics.put(name, new PartitionAssignor.Topic(id, name, partitions));
        return id;
    }

    @Override
    public PartitionAssignor.Topic topic(String name) {
        return topics.get(name);
    }

    @Override
    public Collection<String> names() {
        return topics.keySet();
    }

    void advanceMs(long ms) {
        now += ms * 1_000_000L;
        group.tick(now);
    }

    Heartbeat.Result join(String member, String... subscribed) {
        return group.heartbeat(new Heartbeat(member, 0, null, null, REBALANCE_TIMEOUT_MS, List.of(subscribed), null, null,
                Assignment.EMPTY, "client", "/127.0.0.1"), now);
    }

    Heartbeat.Result joinStatic(String member, String instance, String... subscribed) {
        return group.heartbeat(new Heartbeat(member, 0, instance, null, REBALANCE_TIMEOUT_MS, List.of(subscribed), null, null,
                Assignment.EMPTY, "client", "/127.0.0.1"), now);
    }

    /** A heartbeat that reports owning {@code owned} (null: not reported). */
    Heartbeat.Result beat(String member, int epoch, Assignment owned) {
        return group.heartbeat(new Heartbeat(member, epoch, null, null, -1, null, null, null, owned, "client", "/127.0.0.1"), now);
    }

    /** What a client sends after an error or a lost answer: everything, so the coordinator answers with the whole assignment. */
    Heartbeat.Result beatFull(String member, int epoch, List<String> subscribed, Assignment owned) {
        return group.heartbeat(new Heartbeat(member, epoch, null, null, REBALANCE_TIMEOUT_MS, subscribed, null, null, owned,
                "client", "/127.0.0.1"), now);
    }

    Heartbeat.Result beatStatic(String member, String instance, int epoch, Assignment owned) {
        return group.heartbeat(new Heartbeat(member, epoch, instance, null, -1, null, null, null, owned, "client", "/127.0.0.1"), now);
    }

    static Assignment partitions(Uuid topic, Integer... ps) {
        Map<Uuid, Set<Integer>> m = new HashMap<>();
        m.put(topic, Set.of(ps));
        return Assignment.of(m);
    }

    ConsumerGroupView.Member member(String id) {
        return group.view().members().stream().filter(m -> m.memberId().equals(id)).findFirst().orElse(null);
    }
}
