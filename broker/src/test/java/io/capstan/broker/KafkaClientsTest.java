package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The broker driven by the real Java client: admin, idempotent producer, assign-mode consumer. */
class KafkaClientsTest {
    @TempDir
    Path dir;
    TestBroker broker;
    Admin admin;

    @BeforeEach
    void start() {
        broker = new TestBroker(dir);
        admin = Admin.create(broker.clientProps());
    }

    @AfterEach
    void stop() {
        admin.close();
        broker.close();
    }

    @Test
    void adminCreatesDescribesListsAndDeletesTopics() throws Exception {
        admin.createTopics(List.of(new NewTopic("orders", 3, (short) 1))).all().get();
        assertThat(admin.listTopics().names().get()).contains("orders");
        TopicDescription d = admin.describeTopics(List.of("orders")).allTopicNames().get().get("orders");
        assertThat(d.partitions()).hasSize(3);
        assertThat(d.partitions().get(0).leader().port()).isEqualTo(broker.broker().port());
        assertThat(admin.describeCluster().nodes().get()).hasSize(1);
        var configs = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, "orders"))).all().get();
        assertThat(configs.values().iterator().next().get("cleanup.policy").value()).isEqualTo("delete");

        assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("orders", 1, (short) 1))).all().get())
                .hasCauseInstanceOf(TopicExistsException.class);
        admin.deleteTopics(List.of("orders")).all().get();
        assertThat(admin.listTopics().names().get()).doesNotContain("orders");
        assertThatThrownBy(() -> admin.deleteTopics(List.of("orders")).all().get())
                .hasCauseInstanceOf(UnknownTopicOrPartitionException.class);
    }

    /** CreateTopics with replicas named per partition: taken as given, or refused with Kafka's error and nothing created. */
    @Test
    void aTopicWithItsReplicasNamedIsCreatedAsGivenOrRefusedWithKafkasError() throws Exception {
        int me = admin.describeCluster().nodes().get().iterator().next().id();
        admin.createTopics(List.of(new NewTopic("placed", Map.of(0, List.of(me), 1, List.of(me))))).all().get();
        TopicDescription d = admin.describeTopics(List.of("placed")).allTopicNames().get().get("placed");
        assertThat(d.partitions()).hasSize(2).allSatisfy(p -> assertThat(p.leader().id()).isEqualTo(me));

        assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("gapped", Map.of(0, List.of(me), 2, List.of(me))))).all().get())
                .hasCauseInstanceOf(org.apache.kafka.common.errors.InvalidReplicaAssignmentException.class)
                .hasMessageContaining("consecutive 0-based");
        assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("elsewhere", Map.of(0, List.of(me + 99))))).all().get())
                .hasCauseInstanceOf(org.apache.kafka.common.errors.InvalidReplicaAssignmentException.class)
                .hasMessageContaining("includes broker " + (me + 99) + ", but no such broker is registered");
        assertThat(admin.listTopics().names().get()).contains("placed").doesNotContain("gapped", "elsewhere");
    }

    @Test
    void idempotentProducerAndAssignModeConsumerRoundTrip() throws Exception {
        admin.createTopics(List.of(new NewTopic("events", 2, (short) 1))).all().get();
        int count = 5_000;
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(), new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < count; i++) {
                sent.add(producer.send(new ProducerRecord<>("events", i % 2, "k" + i, "value-" + i)));
            }
            producer.flush();
        }
        long[] nextOffset = new long[2];
        for (int i = 0; i < count; i++) {
            RecordMetadata md = sent.get(i).get();
            assertThat(md.offset()).isEqualTo(nextOffset[md.partition()]++);
        }
        List<ConsumerRecord<String, String>> got = broker.readFromStart("events", 2, count);
        assertThat(got).hasSize(count);
        for (ConsumerRecord<String, String> r : got) {
            int i = Integer.parseInt(r.key().substring(1));
            assertThat(r.value()).isEqualTo("value-" + i);
            assertThat(r.partition()).isEqualTo(i % 2);
        }
    }

    @Test
    void listOffsetsEarliestLatestAndByTimestamp() throws Exception {
        admin.createTopics(List.of(new NewTopic("ts", 1, (short) 1))).all().get();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps(), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>("ts", 0, 1000L * (i + 1), null, ("v" + i).getBytes(StandardCharsets.UTF_8))).get();
            }
        }
        TopicPartition tp = new TopicPartition("ts", 0);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps(), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            assertThat(consumer.beginningOffsets(Set.of(tp)).get(tp)).isZero();
            assertThat(consumer.endOffsets(Set.of(tp)).get(tp)).isEqualTo(10);
            var byTime = consumer.offsetsForTimes(Map.of(tp, 4500L)).get(tp);
            assertThat(byTime.offset()).isEqualTo(4);
            assertThat(byTime.timestamp()).isEqualTo(5000L);
            assertThat(consumer.offsetsForTimes(Map.of(tp, 99_000L)).get(tp)).isNull();
        }
    }

    @Test
    void consumerLongPollWakesWhenDataArrives() throws Exception {
        admin.createTopics(List.of(new NewTopic("live", 1, (short) 1))).all().get();
        TopicPartition tp = new TopicPartition("live", 0);
        Properties props = consumerProps();
        props.put("fetch.max.wait.ms", "30000");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(), new StringSerializer(), new StringSerializer())) {
            KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            assertThat(consumer.poll(Duration.ofMillis(200))).isEmpty();
            producer.send(new ProducerRecord<>("live", "hello")).get();
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 20_000;
            while (got.isEmpty() && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofSeconds(1)).forEach(got::add);
            }
            assertThat(got).extracting(ConsumerRecord::value).containsExactly("hello");
            // the consumer's next fetch is parked for up to 30 s; do not wait for it on close
            consumer.close(Duration.ZERO);
        }
    }

    private Properties producerProps() {
        Properties p = broker.clientProps();
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        p.put("linger.ms", "5");
        return p;
    }

    private Properties consumerProps() {
        Properties p = broker.clientProps();
        p.put("enable.auto.commit", "false");
        p.put("auto.offset.reset", "earliest");
        return p;
    }
}
