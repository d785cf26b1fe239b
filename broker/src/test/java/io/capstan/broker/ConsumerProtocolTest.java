package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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
import org.apache.kafka.common.errors.InconsistentGroupProtocolException;
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
            p.put("group.protocol", "consumer");
            p.put("enable.auto.commit", "false");
            p.put("auto.offset.reset", "earliest");
            p.putAll(extra);
            consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
            consumer.subscribe(List.of(TOPIC), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    consumer.commitSync();
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}
            });
        }

        void poll() {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                read.add(r.value());
            }
            consumer.commitSync();
        }

        Set<TopicPartition> assignment() {
            return consumer.assignment();
        }

        @Override
        public void close() {
            consumer.close();
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
        }
    }

    @Test
    void aClassicConsumerCannotJoinAConsumerProtocolGroupWithMembers() throws Exception {
        try (Member a = new Member("mixed", Map.of())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                a.poll();
                return a.assignment().size() == PARTITIONS;
            });
            Properties p = broker.clientProps();
            p.put("group.id", "mixed");
            p.put("group.protocol", "classic");
            try (KafkaConsumer<String, String> classic = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
                classic.subscribe(List.of(TOPIC));
                assertThatThrownBy(() -> {
                    for (int i = 0; i < 100; i++) {
                        classic.poll(Duration.ofMillis(100));
                    }
                }).isInstanceOf(InconsistentGroupProtocolException.class);
            }
            a.poll();
            assertThat(a.assignment()).hasSize(PARTITIONS);
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
