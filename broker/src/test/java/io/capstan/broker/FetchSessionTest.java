package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Incremental fetch sessions with Kafka's consumer: reading 200 partitions of which few get records, every record
 * arrives, and the consumer's requests (nearly all fetches; the metric counts every request) are a fraction of the
 * size they are when the broker keeps no sessions
 * (max.incremental.fetch.session.cache.slots=0, every fetch lists all 200 partitions).
 */
class FetchSessionTest {
    /** 200 in CI; the figure: -Dcapstan.sessions.partitions=1000. */
    private static final int PARTITIONS = Integer.getInteger("capstan.sessions.partitions", 200);

    @TempDir
    Path dir;

    @Test
    void aConsumerOfManyPartitionsSendsOnlyWhatChanged() throws Exception {
        double withSessions = bytesPerFetch(dir.resolve("sessions"), "1000");
        double without = bytesPerFetch(dir.resolve("none"), "0");
        System.out.printf("bytes the consumer sent per request (nearly all fetches): with sessions %.0f, without %.0f (%d partitions)%n", withSessions, without, PARTITIONS);
        assertThat(withSessions).as("bytes a fetch request carries with sessions vs %.0f without", without).isLessThan(without / 5);
    }

    /** Reads records produced to a few of the partitions while fetching all; returns the consumer's bytes sent per request. */
    private double bytesPerFetch(Path data, String slots) throws Exception {
        try (TestBroker broker = new TestBroker(data, Map.of("max.incremental.fetch.session.cache.slots", slots));
             Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("wide", PARTITIONS, (short) 1))).all().get();
            Properties p = broker.clientProps();
            p.put("fetch.max.wait.ms", "50");
            List<TopicPartition> all = new ArrayList<>();
            for (int i = 0; i < PARTITIONS; i++) {
                all.add(new TopicPartition("wide", i));
            }
            Map<TopicPartition, List<String>> sent = new HashMap<>();
            Map<TopicPartition, List<String>> got = new HashMap<>();
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
                 KafkaProducer<String, String> producer = new KafkaProducer<>(broker.clientProps(), new StringSerializer(), new StringSerializer())) {
                consumer.assign(all);
                consumer.seekToBeginning(all);
                consumer.poll(Duration.ofMillis(200));
                double requestsBefore = metric(consumer, "request-total");
                double bytesBefore = metric(consumer, "outgoing-byte-total");
                for (int round = 0; round < 20; round++) {
                    TopicPartition tp = all.get((round * 37) % PARTITIONS);
                    String value = "r" + round;
                    producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), "k", value)).get();
                    sent.computeIfAbsent(tp, k -> new ArrayList<>()).add(value);
                    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                    while (got.getOrDefault(tp, List.of()).size() < sent.get(tp).size() && System.nanoTime() < deadline) {
                        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                            got.computeIfAbsent(new TopicPartition(r.topic(), r.partition()), k -> new ArrayList<>()).add(r.value());
                        }
                    }
                }
                assertThat(got).as("every record, on its partition, once, in order (slots=%s)", slots).isEqualTo(sent);
                return (metric(consumer, "outgoing-byte-total") - bytesBefore) / (metric(consumer, "request-total") - requestsBefore);
            }
        }
    }

    private static double metric(KafkaConsumer<?, ?> consumer, String name) {
        for (Map.Entry<MetricName, ? extends Metric> e : consumer.metrics().entrySet()) {
            if (e.getKey().name().equals(name) && e.getKey().group().equals("consumer-metrics")) {
                return ((Number) e.getValue().metricValue()).doubleValue();
            }
        }
        throw new AssertionError("no consumer metric " + name);
    }
}
