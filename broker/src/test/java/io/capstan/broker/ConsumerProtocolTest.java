package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The consumer group protocol of KIP-848 (group.protocol=consumer) driven by the real Java client. */
class ConsumerProtocolTest {
    private static final String TOPIC = "cp";
    private static final int PARTITIONS = 6;

    @TempDir
    Path dir;
    TestBroker broker;
    /** Every record any member of a test read, in the order read. */
    final List<String> everyRead = java.util.Collections.synchronizedList(new ArrayList<>());
    /** Which member owns each partition, from the members' rebalance callbacks (members are polled on one thread). */
    final Map<TopicPartition, Member> owners = new java.util.HashMap<>();
    final List<String> doubleOwned = new ArrayList<>();
    final java.util.concurrent.atomic.AtomicInteger commitsRefused = new java.util.concurrent.atomic.AtomicInteger();

    @BeforeEach
    void start() throws Exception {
        broker = new TestBroker(dir, Map.of("group.consumer.heartbeat.interval.ms", "500"));
        try (Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get();
        }
    }

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    /** A consumer that commits what it has read after each poll and before it gives a partition up. */
    private final class Member implements AutoCloseable {
        final KafkaConsumer<String, String> consumer;
        final List<String> read = new ArrayList<>();

        Member(String group, Map<String, Object> extra) {
            Properties p = broker.clientProps();
            p.put("group.id", group);
            p.put("group.protocol", "consumer"); // unless extra says otherwise
            p.put("enable.auto.commit", "false");
            p.put("auto.offset.reset", "earliest");
            p.putAll(extra);
            consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
            consumer.subscribe(List.of(TOPIC), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    commit();
                    released(partitions);
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    for (TopicPartition tp : partitions) {
                        Member previous = owners.putIfAbsent(tp, Member.this);
                        if (previous != null && previous != Member.this) {
                            doubleOwned.add(tp + " assigned while another member still owned it");
                        }
                    }
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> partitions) {
                    released(partitions);
                }
            });
        }

        void poll() {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                read.add(r.value());
                everyRead.add(r.value());
            }
            commit();
        }

        /** What an application does when a classic member's commit meets a rebalance: go on polling (at least once). */
        private void commit() {
            try {
                consumer.commitSync();
            } catch (org.apache.kafka.common.errors.RebalanceInProgressException | org.apache.kafka.clients.consumer.CommitFailedException e) {
                commitsRefused.incrementAndGet();
            }
        }

        private void released(Collection<TopicPartition> partitions) {
            partitions.forEach(tp -> owners.remove(tp, this));
        }

        Set<TopicPartition> assignment() {
            return consumer.assignment();
        }

        private boolean closed;

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                consumer.close();
                released(List.copyOf(owners.keySet()));
            }
        }
    }

    @Test
    void membersSplitThePartitionsWithoutStoppingAndEveryRecordIsReadExactlyOnce() throws Exception {
        List<String> sent = produce(0, 600);
        try (Member a = new Member("split", Map.of()); Member b = new Member("split", Map.of())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                a.poll();
                return a.assignment().size() == PARTITIONS;
            });
            sent.addAll(produce(600, 600));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                a.poll();
                b.poll();
                return a.assignment().size() == PARTITIONS / 2 && b.assignment().size() == PARTITIONS / 2
                        && a.read.size() + b.read.size() >= sent.size();
            });
            assertThat(disjoint(a.assignment(), b.assignment())).isTrue();
            List<String> all = new ArrayList<>(a.read);
            all.addAll(b.read);
            assertThat(all).containsExactlyInAnyOrderElementsOf(sent);
            assertThat(commitsRefused).as("consumer-protocol commits are never refused for a rebalance").hasValue(0);

            try (Admin admin = Admin.create(broker.clientProps())) {
                ConsumerGroupDescription d = admin.describeConsumerGroups(List.of("split")).all().get().get("split");
                assertThat(d.type()).isEqualTo(GroupType.CONSUMER);
                assertThat(d.groupState()).isEqualTo(GroupState.STABLE);
                assertThat(d.members()).hasSize(2);
                Set<TopicPartition> described = new HashSet<>();
                for (MemberDescription m : d.members()) {
                    assertThat(m.assignment().topicPartitions()).hasSize(PARTITIONS / 2);
                    assertThat(m.targetAssignment()).isPresent();
                    assertThat(m.targetAssignment().get().topicPartitions()).isEqualTo(m.assignment().topicPartitions());
                    described.addAll(m.assignment().topicPartitions());
                }
                assertThat(described).hasSize(PARTITIONS);
                Collection<GroupListing> listed = admin.listGroups().all().get();
                assertThat(listed).anySatisfy(g -> {
                    assertThat(g.groupId()).isEqualTo("split");
                    assertThat(g.type()).contains(GroupType.CONSUMER);
                    assertThat(g.groupState()).contains(GroupState.STABLE);
                });
            }

            a.close();
            sent.addAll(produce(1200, 300));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                b.poll();
                return b.assignment().size() == PARTITIONS && a.read.size() + b.read.size() >= sent.size();
            });
            List<String> after = new ArrayList<>(a.read);
            after.addAll(b.read);
            assertThat(after).containsExactlyInAnyOrderElementsOf(sent);
            assertThat(doubleOwned).isEmpty();
        }
    }

    static final Map<String, Object> CLASSIC_COOPERATIVE = Map.of("group.protocol", "classic",
            "partition.assignment.strategy", "org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
    static final Map<String, Object> CLASSIC_EAGER = Map.of("group.protocol", "classic",
            "partition.assignment.strategy", "org.apache.kafka.clients.consumer.RangeAssignor");

    @Test
    void aClassicGroupUpgradesOnlineOneMemberAtATimeAndEveryRecordIsReadExactlyOnce() throws Exception {
        List<String> sent = produce(0, 300);
        List<Member> all = new ArrayList<>();
        try (Member classicA = new Member("upgrade", CLASSIC_COOPERATIVE); Member classicB = new Member("upgrade", CLASSIC_COOPERATIVE)) {
            all.add(classicA);
            all.add(classicB);
            pollUntil(all, () -> classicA.assignment().size() == PARTITIONS / 2 && classicB.assignment().size() == PARTITIONS / 2);
            assertThat(groupType("upgrade")).isEqualTo(GroupType.CLASSIC);
            int classicGeneration = broker.broker().groups().describe("upgrade").generation();

            // a member on the new protocol joins the classic group: it becomes a consumer group, the classic members stay
            sent.addAll(produce(300, 300));
            try (Member modernA = new Member("upgrade", Map.of())) {
                all.add(modernA);
                pollUntil(all, () -> all.stream().allMatch(m -> m.assignment().size() == PARTITIONS / 3) && readAll(all, sent));
                assertThat(groupType("upgrade")).isEqualTo(GroupType.CONSUMER);
                assertThat(describe("upgrade").groupEpoch().orElseThrow()).isGreaterThan(classicGeneration);
                assertThat(describe("upgrade").members()).extracting(m -> m.upgraded().orElse(false))
                        .as("two members still on the classic protocol").containsExactlyInAnyOrder(false, false, true);

                // the rolling restart goes on: each classic member is replaced by one on the new protocol
                classicA.close();
                all.remove(classicA);
                try (Member modernB = new Member("upgrade", Map.of())) {
                    all.add(modernB);
                    classicB.close();
                    all.remove(classicB);
                    sent.addAll(produce(600, 300));
                    try (Member modernC = new Member("upgrade", Map.of())) {
                        all.add(modernC);
                        pollUntil(all, () -> all.stream().allMatch(m -> m.assignment().size() == PARTITIONS / 3) && readAll(all, sent));
                        assertThat(describe("upgrade").members()).allSatisfy(m -> assertThat(m.upgraded()).contains(true));
                    }
                }
            }
        }
        // classic members may see a commit refused during a rebalance and read those records again: at least once
        assertThat(everyRead).containsAll(sent);
        assertThat(doubleOwned).isEmpty();
        System.out.printf("online upgrade: %d records, %d reads, %d commits refused during rebalances%n", sent.size(), everyRead.size(),
                commitsRefused.get());
    }

    @Test
    void aClassicMemberJoinsAConsumerGroupWithMembersAndGetsItsShare() throws Exception {
        List<String> sent = produce(0, 300);
        List<Member> all = new ArrayList<>();
        try (Member modern = new Member("mixed", Map.of())) {
            all.add(modern);
            pollUntil(all, () -> modern.assignment().size() == PARTITIONS);
            try (Member eager = new Member("mixed", CLASSIC_EAGER)) {
                all.add(eager);
                sent.addAll(produce(300, 300));
                pollUntil(all, () -> modern.assignment().size() == PARTITIONS / 2 && eager.assignment().size() == PARTITIONS / 2
                        && readAll(all, sent));
                assertThat(disjoint(modern.assignment(), eager.assignment())).isTrue();
                assertThat(groupType("mixed")).isEqualTo(GroupType.CONSUMER);
            }
            pollUntil(all.subList(0, 1), () -> modern.assignment().size() == PARTITIONS);
        }
        assertThat(everyRead).containsAll(sent);
        assertThat(doubleOwned).isEmpty();
    }

    /** Polls every member (one thread: the consumers are independent) until the condition holds. */
    private static void pollUntil(List<Member> members, java.util.concurrent.Callable<Boolean> done) {
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            members.forEach(Member::poll);
            return done.call();
        });
    }

    private boolean readAll(List<Member> members, List<String> sent) {
        return everyRead.size() >= sent.size();
    }


    private GroupType groupType(String group) throws Exception {
        try (Admin admin = Admin.create(broker.clientProps())) {
            return admin.listGroups().all().get().stream().filter(g -> g.groupId().equals(group)).findFirst().orElseThrow().type().orElseThrow();
        }
    }

    @Test
    void aRestartedStaticMemberGetsItsPartitionsBackWithoutARebalance() throws Exception {
        Map<String, Object> first = Map.of("group.instance.id", "first");
        Map<String, Object> second = Map.of("group.instance.id", "second");
        try (Member b = new Member("static", second)) {
            Set<TopicPartition> before;
            int epochBefore;
            try (Member a = new Member("static", first)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    a.poll();
                    b.poll();
                    return a.assignment().size() == PARTITIONS / 2 && b.assignment().size() == PARTITIONS / 2;
                });
                before = Set.copyOf(a.assignment());
                epochBefore = describe("static").groupEpoch().orElseThrow();
            }
            ConsumerGroupDescription away = describe("static");
            assertThat(away.members()).hasSize(2); // the instance left for now; its partitions wait for it
            try (Member a = new Member("static", first)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    a.poll();
                    b.poll();
                    return a.assignment().size() == PARTITIONS / 2;
                });
                assertThat(a.assignment()).isEqualTo(before);
                assertThat(describe("static").groupEpoch()).contains(epochBefore);
            }
        }
    }

    private ConsumerGroupDescription describe(String group) throws Exception {
        try (Admin admin = Admin.create(broker.clientProps())) {
            return admin.describeConsumerGroups(List.of(group)).all().get().get(group);
        }
    }

    private static boolean disjoint(Set<TopicPartition> a, Set<TopicPartition> b) {
        Set<TopicPartition> both = new HashSet<>(a);
        both.retainAll(b);
        return both.isEmpty();
    }

    private List<String> produce(int from, int count) throws Exception {
        List<String> values = new ArrayList<>();
        try (KafkaProducer<String, String> p = new KafkaProducer<>(broker.clientProps(), new StringSerializer(), new StringSerializer())) {
            for (int i = from; i < from + count; i++) {
                p.send(new ProducerRecord<>(TOPIC, i % PARTITIONS, "k" + i, "v" + i));
                values.add("v" + i);
            }
            p.flush();
        }
        return values;
    }
}
