package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With a tiny queued.max.request.bytes, connections pause and resume; every record still gets through. */
class BackpressureTest {
    @TempDir
    Path dir;

    @Test
    void producersAreSlowedNotFailedWhenTheLogFallsBehind() throws Exception {
        try (TestBroker broker = new TestBroker(dir, Map.of("queued.max.request.bytes", "32768"));
             Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("bp", 4, (short) 1))).all().get();
            Properties p = broker.clientProps();
            p.put("linger.ms", "20");
            p.put("batch.size", "65536");
            List<KafkaProducer<byte[], byte[]>> producers = List.of(
                    new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer()),
                    new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer()));
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            byte[] value = new byte[1024];
            for (int i = 0; i < 5000; i++) {
                for (KafkaProducer<byte[], byte[]> producer : producers) {
                    sent.add(producer.send(new ProducerRecord<>("bp", i % 4, null, value)));
                }
            }
            producers.forEach(KafkaProducer::flush);
            for (Future<RecordMetadata> f : sent) {
                f.get();
            }
            producers.forEach(KafkaProducer::close);
            long total = 0;
            for (int part = 0; part < 4; part++) {
                total += broker.broker().logs().catalog().shard(new org.apache.kafka.common.TopicPartition("bp", part)).highWatermark();
            }
            assertThat(total).isEqualTo(10_000);
            assertThat(broker.broker().logs().pendingWrites().pauses()).as("connections were paused").isPositive();
            assertThat(broker.broker().logs().pendingWrites().pendingBytes()).isZero();
        }
    }
}
