package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Consumer groups driven by the real Java client (classic protocol). */
class GroupConsumerTest {
    @TempDir
    Path dir;
    TestBroker broker;

    @BeforeEach
    void start() throws Exception {
        broker = new TestBroker(dir);
        try (Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("g", 4, (short) 1))).all().get();
        }
    }

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void committedOffsetsResumeAConsumerAndSurviveACoordinatorRestart() throws Exception {
        produce(0, 1000);
        try (KafkaConsumer<String, String> c = consumer("resume", Map.of())) {
            c.subscribe(List.of("g"));
            assertThat(drain(c, 1000)).hasSize(1000);
            c.commitSync();
        }
        try (KafkaConsumer<String, String> c = consumer("resume", Map.of())) {
            c.subscribe(List.of("g"));
            produce(1000, 100);
            List<ConsumerRecord<String, String>> next = drain(c, 100);
            assertThat(next).extracting(ConsumerRecord::value).allMatch(v -> Integer.parseInt(v.substring(1)) >= 1000);
            assertThat(next).hasSize(100);
            c.commitSync();
        }
        broker.close();
        broker = new TestBroker(dir);
        try (Admin admin = Admin.create(broker.clientProps())) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("resume").partitionsToOffsetAndMetadata().get();
            assertThat(committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum()).isEqualTo(1100);
        }
        produce(1100, 10);
        try (KafkaConsumer<String, String> c = consumer("resume", Map.of())) {
            c.subscribe(List.of("g"));
            assertThat(drain(c, 10)).extracting(ConsumerRecord::value).allMatch(v -> Integer.parseInt(v.substring(1)) >= 1100);
        }
    }

    @Test
    void twoMembersSplitThePartitionsWithRangeRoundRobinAndCooperativeAssignors() throws Exception {
        for (String assignor : List.of("org.apache.kafka.clients.consumer.RangeAssignor",
                "org.apache.kafka.clients.consumer.RoundRobinAssignor",
                "org.apache.kafka.clients.consumer.CooperativeStickyAssignor")) {
            String group = "split-" + assignor.substring(assignor.lastIndexOf('.') + 1);
            // a member hears of a rebalance by its heartbeat: every 300 ms rather than the default 3 s
            Map<String, Object> extra = Map.of("partition.assignment.strategy", assignor, "heartbeat.interval.ms", "300");
            try (KafkaConsumer<String, String> a = consumer(group, extra); KafkaConsumer<String, String> b = consumer(group, extra)) {
                a.subscribe(List.of("g"));
                b.subscribe(List.of("g"));
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    a.poll(Duration.ofMillis(100));
                    b.poll(Duration.ofMillis(100));
                    return a.assignment().size() == 2 && b.assignment().size() == 2;
                });
                Set<TopicPartition> all = new HashSet<>(a.assignment());
                all.addAll(b.assignment());
                assertThat(all).hasSize(4);
            }
        }
    }

    @Test
    void staticMemberRestartKeepsItsPartitionsWithoutARebalance() throws Exception {
        Map<String, Object> staticA = Map.of("group.instance.id", "instance-a", "session.timeout.ms", "30000");
        Map<String, Object> staticB = Map.of("group.instance.id", "instance-b", "session.timeout.ms", "30000");
        try (KafkaConsumer<String, String> b = consumer("static", staticB)) {
            b.subscribe(List.of("g"));
            Set<TopicPartition> firstA;
            try (KafkaConsumer<String, String> a = consumer("static", staticA)) {
                a.subscribe(List.of("g"));
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    a.poll(Duration.ofMillis(100));
                    b.poll(Duration.ofMillis(100));
                    return a.assignment().size() == 2 && b.assignment().size() == 2;
                });
                firstA = Set.copyOf(a.assignment());
            }
            int generation = broker.broker().groups().describe("static").generation();
            // a static member's close does not leave the group (KIP-345): it comes back under the same instance id
            try (KafkaConsumer<String, String> a = consumer("static", staticA)) {
                a.subscribe(List.of("g"));
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    a.poll(Duration.ofMillis(100));
                    b.poll(Duration.ofMillis(100));
                    return a.assignment().size() == 2;
                });
                assertThat(a.assignment()).isEqualTo(firstA);
                assertThat(broker.broker().groups().describe("static").generation()).isEqualTo(generation);
            }
        }
    }

    @Test
    void adminListsDescribesAndDeletesGroups() throws Exception {
        produce(0, 50);
        try (KafkaConsumer<String, String> c = consumer("admin-g", Map.of())) {
            c.subscribe(List.of("g"));
            drain(c, 50);
            c.commitSync();
            try (Admin admin = Admin.create(broker.clientProps())) {
                assertThat(admin.listConsumerGroups().all().get()).anyMatch(l -> l.groupId().equals("admin-g"));
                var d = admin.describeConsumerGroups(List.of("admin-g")).all().get().get("admin-g");
                assertThat(d.members()).hasSize(1);
                assertThat(d.members().iterator().next().assignment().topicPartitions()).hasSize(4);
            }
        }
        try (Admin admin = Admin.create(broker.clientProps())) {
            admin.deleteConsumerGroups(List.of("admin-g")).all().get();
            assertThat(admin.listConsumerGroupOffsets("admin-g").partitionsToOffsetAndMetadata().get()).isEmpty();
        }
    }

    private void produce(int from, int count) throws Exception {
        try (KafkaProducer<String, String> p = new KafkaProducer<>(broker.clientProps(), new StringSerializer(), new StringSerializer())) {
            for (int i = from; i < from + count; i++) {
                p.send(new ProducerRecord<>("g", i % 4, "k" + i, "v" + i));
            }
            p.flush();
        }
    }

    private KafkaConsumer<String, String> consumer(String group, Map<String, Object> extra) {
        Properties p = broker.clientProps();
        p.put("group.id", group);
        p.put("enable.auto.commit", "false");
        p.put("auto.offset.reset", "earliest");
        p.putAll(extra);
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    private static List<ConsumerRecord<String, String>> drain(KafkaConsumer<String, String> c, int expected) {
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 60_000;
        while (got.size() < expected && System.currentTimeMillis() < deadline) {
            c.poll(Duration.ofMillis(200)).forEach(got::add);
        }
        return got;
    }
}
