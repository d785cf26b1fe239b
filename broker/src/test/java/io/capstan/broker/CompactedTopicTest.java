package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A compacted topic through Kafka's own clients: the cleaner (running on its own, every 100 ms here) leaves each key's
 * latest value at the offset its producer was told, a consumer reads across the gaps, deleted keys' tombstones go after
 * delete.retention.ms, a record without a key is refused with Kafka's error, and retention does not touch the topic.
 */
class CompactedTopicTest {
    private static final String TOPIC = "table";
    private static final int KEYS = 100;

    @TempDir
    Path dir;

    @Test
    void theCleanerKeepsTheLatestValueOfEachKeyAtItsOffset() throws Exception {
        try (TestBroker broker = new TestBroker(dir, Map.of("log.cleaner.backoff.ms", "100", "log.retention.check.interval.ms", "100"));
             Admin admin = Admin.create(broker.clientProps());
             KafkaProducer<String, String> producer = producer(broker)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1).configs(Map.of("cleanup.policy", "compact",
                    "min.cleanable.dirty.ratio", "0.01", "delete.retention.ms", "0", "retention.ms", "1")))).all().get();

            Map<String, Long> latestOffset = new HashMap<>();
            Map<String, String> latestValue = new HashMap<>();
            for (int round = 0; round < 10; round++) {
                for (int k = 0; k < KEYS; k++) {
                    String key = "key-" + k;
                    String value = "value-" + k + "-" + round;
                    RecordMetadata md = producer.send(new ProducerRecord<>(TOPIC, key, value)).get();
                    latestOffset.put(key, md.offset());
                    latestValue.put(key, value);
                }
            }
            // the cleaner never touches the newest batch: one more record keeps every key above it compactable
            long lastOffset = producer.send(new ProducerRecord<>(TOPIC, "marker", "m")).get().offset();

            List<ConsumerRecord<String, String>> compacted = awaitRead(broker, lastOffset, "compaction down to one record per key",
                    records -> records.size() == KEYS + 1);
            for (ConsumerRecord<String, String> r : compacted.subList(0, KEYS)) {
                assertThat(r.offset()).as("offset of %s", r.key()).isEqualTo(latestOffset.get(r.key()));
                assertThat(r.value()).isEqualTo(latestValue.get(r.key()));
            }
            assertThat(compacted.stream().map(ConsumerRecord::key).distinct().count()).isEqualTo(KEYS + 1);
            assertThat(broker.broker().logs().catalog().shard(new TopicPartition(TOPIC, 0)).logStartOffset())
                    .as("compaction removed the first batches without moving the log start; retention.ms=1 did nothing").isZero();

            // a consumer asked to start inside a gap gets the next record that is left
            try (KafkaConsumer<String, String> consumer = consumer(broker)) {
                TopicPartition tp = new TopicPartition(TOPIC, 0);
                consumer.assign(List.of(tp));
                consumer.seek(tp, 5);
                ConsumerRecord<String, String> first = consumer.poll(Duration.ofSeconds(10)).iterator().next();
                assertThat(first.offset()).isEqualTo(compacted.get(0).offset()).isGreaterThan(5);
            }

            // deleting half the keys: their tombstones (delete.retention.ms=0) go at the next pass after the one that saw them
            for (int k = 0; k < KEYS; k += 2) {
                producer.send(new ProducerRecord<>(TOPIC, "key-" + k, null)).get();
            }
            long endMarker = producer.send(new ProducerRecord<>(TOPIC, "marker", "m2")).get().offset();
            long tail = producer.send(new ProducerRecord<>(TOPIC, "tail", "t")).get().offset();
            List<ConsumerRecord<String, String>> afterDeletes = awaitRead(broker, tail, "tombstones and the deleted keys gone",
                    records -> records.size() == KEYS / 2 + 2 && records.stream().allMatch(r -> r.value() != null));
            assertThat(afterDeletes.stream().map(ConsumerRecord::key).toList()).doesNotContain("key-0", "key-98")
                    .contains("key-1", "key-99", "marker", "tail");
            assertThat(afterDeletes.stream().filter(r -> r.key().equals("marker")).findFirst().orElseThrow().offset()).isEqualTo(endMarker);

            ExecutionException keyless = assertThrows(ExecutionException.class, () -> producer.send(new ProducerRecord<>(TOPIC, null, "no key")).get());
            assertThat(keyless.getCause()).isInstanceOf(InvalidRecordException.class).hasMessageContaining("without key");
            assertThat(broker.broker().logs().cleanerStats().passes()).isGreaterThanOrEqualTo(2);
            assertThat(broker.broker().logs().cleanerStats().bytesRemoved()).isPositive();
        }
    }

    /** Reads the topic until {@code done} holds for what it holds; on timeout says what it held (offsets, keys, tombstones). */
    private static List<ConsumerRecord<String, String>> awaitRead(TestBroker broker, long lastOffset, String what,
                                                                  java.util.function.Predicate<List<ConsumerRecord<String, String>>> done) {
        java.util.concurrent.atomic.AtomicReference<List<ConsumerRecord<String, String>>> last = new java.util.concurrent.atomic.AtomicReference<>();
        try {
            Awaitility.await(what).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300)).until(() -> {
                last.set(readAll(broker, lastOffset));
                return done.test(last.get());
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(what + " did not happen within 60 s; the topic held " + last.get().size() + " records: "
                    + last.get().stream().map(r -> r.offset() + ":" + r.key() + (r.value() == null ? "(tombstone)" : "")).toList()
                    + "; cleaner passes " + broker.broker().logs().cleanerStats().passes());
        }
        return last.get();
    }

    private static List<ConsumerRecord<String, String>> readAll(TestBroker broker, long lastOffset) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = consumer(broker)) {
            TopicPartition tp = new TopicPartition(TOPIC, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < deadline && (out.isEmpty() || out.get(out.size() - 1).offset() < lastOffset)) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        assertThat(out).as("read up to offset %d", lastOffset).isNotEmpty();
        assertThat(out.get(out.size() - 1).offset()).isEqualTo(lastOffset);
        for (int i = 1; i < out.size(); i++) {
            assertThat(out.get(i).offset()).isGreaterThan(out.get(i - 1).offset());
        }
        return out;
    }

    private static KafkaProducer<String, String> producer(TestBroker broker) {
        Properties p = broker.clientProps();
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private static KafkaConsumer<String, String> consumer(TestBroker broker) {
        Properties p = broker.clientProps();
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }
}
