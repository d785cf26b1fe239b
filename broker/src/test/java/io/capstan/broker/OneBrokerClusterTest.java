package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.config.BrokerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker without a shared metadata store is a cluster of one over a store in its data directory: topics it kept only
 * in its log (a data directory of an earlier version) are registered and keep every record and committed offset; the
 * store refuses another node id; auto-created topics go through the same path as CreateTopics.
 */
class OneBrokerClusterTest {
    @TempDir
    Path dir;

    @Test
    void topicsKeptOnlyInTheLogAreRegisteredWithEveryRecordAndCommittedOffset() throws Exception {
        Map<String, String> sent = new HashMap<>();
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("orders", 3, (short) 1))).all().get();
            produce(broker, "orders", 0, 900, sent);
            admin.alterConsumerGroupOffsets("billing", Map.of(new TopicPartition("orders", 1), new OffsetAndMetadata(123))).all().get();
        }
        // what an earlier version left: the log, and no cluster metadata at all
        deleteRecursively(dir.resolve(BrokerConfig.EMBEDDED_METADATA_DIR));

        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            TopicDescription orders = admin.describeTopics(List.of("orders")).allTopicNames().get().get("orders");
            assertThat(orders.partitions()).hasSize(3).allSatisfy(p -> {
                assertThat(p.leader().id()).isZero();
                assertThat(p.isr()).extracting(n -> n.id()).containsExactly(0);
            });
            assertEveryRecord(broker.readFromStart("orders", 3, sent.size()), sent);
            assertThat(admin.listConsumerGroupOffsets("billing").partitionsToOffsetAndMetadata().get())
                    .containsEntry(new TopicPartition("orders", 1), new OffsetAndMetadata(123));
            produce(broker, "orders", 900, 100, sent); // and it leads them: new writes are acknowledged
            assertEveryRecord(broker.readFromStart("orders", 3, sent.size()), sent);
        }
        // registered once: a restart finds them in the store, not in the log
        try (TestBroker broker = new TestBroker(dir)) {
            assertEveryRecord(broker.readFromStart("orders", 3, sent.size()), sent);
        }
    }

    @Test
    void theStoreBelongsToTheNodeIdThatCreatedIt() {
        new TestBroker(dir).close();
        assertThatThrownBy(() -> new TestBroker(dir, Map.of("node.id", "7")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("holds the data of node.id 0, not 7")
                .hasMessageContaining("node.id=0");
        // refused without harm: the rightful owner starts as before
        new TestBroker(dir).close();
    }

    @Test
    void autoCreatedTopicsTakeTheDefaultsAndServeAtOnce() throws Exception {
        Map<String, String> sent = new HashMap<>();
        try (TestBroker broker = new TestBroker(dir, Map.of("auto.create.topics.enable", "true", "num.partitions", "2"));
             Admin admin = Admin.create(broker.clientProps())) {
            produce(broker, "typo-or-not", 0, 50, sent);
            TopicDescription created = admin.describeTopics(List.of("typo-or-not")).allTopicNames().get().get("typo-or-not");
            assertThat(created.partitions()).hasSize(2);
            assertEveryRecord(broker.readFromStart("typo-or-not", 2, sent.size()), sent);
        }
    }

    private static void produce(TestBroker broker, String topic, int from, int count, Map<String, String> sent) throws Exception {
        Properties p = broker.clientProps();
        p.put("acks", "all");
        p.put("max.block.ms", "30000");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int i = from; i < from + count; i++) {
                producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)).get();
                sent.put("k" + i, "v" + i);
            }
        }
    }

    private static void assertEveryRecord(List<ConsumerRecord<String, String>> read, Map<String, String> sent) {
        Map<String, String> got = new HashMap<>();
        read.forEach(r -> assertThat(got.put(r.key(), r.value())).as("record %s read twice", r.key()).isNull());
        assertThat(got).isEqualTo(sent);
    }

    private static void deleteRecursively(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
