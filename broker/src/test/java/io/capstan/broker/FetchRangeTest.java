package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.capstan.broker.log.Shard;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which fetch offsets are out of range, as in Kafka: below the log start or past the log end. Between the high
 * watermark and the log end (a new leader's high watermark trails its predecessor's until its followers fetch) a
 * consumer gets nothing yet and keeps its position; answering OFFSET_OUT_OF_RANGE there made consumers reset and
 * commit offsets far behind (found by the soak).
 */
class FetchRangeTest {
    private static final TopicPartition TP = new TopicPartition("range", 0);

    @TempDir
    Path dir;

    @Test
    void anOffsetBetweenTheHighWatermarkAndTheLogEndWaitsAndOnePastTheLogEndIsOutOfRange() throws Exception {
        try (TestBroker broker = new TestBroker(dir)) {
            try (Admin admin = Admin.create(broker.clientProps())) {
                admin.createTopics(List.of(new NewTopic(TP.topic(), 1, (short) 1))).all().get();
            }
            Properties producerProps = broker.clientProps();
            producerProps.put("acks", "all");
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps, new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>(TP.topic(), 0, null, "v" + i)).get();
                }
            }
            Shard shard = broker.broker().logs().catalog().shard(TP);
            shard.replicate(4); // as on a new leader: the log ends at 10, the high watermark trails at 4
            assertThat(shard.logEnd()).isEqualTo(10);
            assertThat(shard.highWatermark()).isEqualTo(4);

            Properties p = broker.clientProps();
            p.put("enable.auto.commit", "false");
            p.put("auto.offset.reset", "none"); // an out-of-range answer surfaces as an exception, not a silent reset
            p.put("fetch.max.wait.ms", "100");
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
                consumer.assign(List.of(TP));
                consumer.seek(TP, 7);
                for (int i = 0; i < 5; i++) {
                    assertThat(consumer.poll(Duration.ofMillis(200))).as("nothing is readable past the high watermark").isEmpty();
                }
                assertThat(consumer.position(TP)).as("the consumer keeps its position").isEqualTo(7);

                shard.advanceHighWatermark(10);
                List<String> read = new ArrayList<>();
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (read.size() < 3 && System.nanoTime() < deadline) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        read.add(r.offset() + "=" + r.value());
                    }
                }
                assertThat(read).as("once the high watermark passes them").containsExactly("7=v7", "8=v8", "9=v9");

                consumer.seek(TP, 11);
                OffsetOutOfRangeException past = assertThrows(OffsetOutOfRangeException.class, () -> {
                    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                    while (System.nanoTime() < until) {
                        consumer.poll(Duration.ofMillis(200));
                    }
                });
                assertThat(past.offsetOutOfRangePartitions()).isEqualTo(Map.of(TP, 11L));
            }
        }
    }
}
