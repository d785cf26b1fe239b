package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DeleteRecords with Kafka's Admin client on a real broker: the log start moves to the exact offset asked, also inside
 * a batch of several records; consumers from the beginning start there; ListOffsets says so; the start survives a
 * restart; past the high watermark is OFFSET_OUT_OF_RANGE; deleting up to the high watermark keeps the log end.
 */
class DeleteRecordsTest {
    private static final TopicPartition TP = new TopicPartition("purged", 0);

    @TempDir
    Path dir;

    @Test
    void theLogStartMovesToTheOffsetAskedAndStaysThereOverARestart() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic(TP.topic(), 1, (short) 1))).all().get();
            produceInBatchesOfTen(broker, 0, 100);

            var deleted = admin.deleteRecords(Map.of(TP, RecordsToDelete.beforeOffset(25))).lowWatermarks().get(TP).get();
            assertThat(deleted.lowWatermark()).isEqualTo(25);
            assertThat(earliest(admin)).isEqualTo(25);
            assertThat(values(broker, 75)).as("from the beginning: offset 25 on, inside the batch of 20-29")
                    .first().isEqualTo("25=v25");

            ExecutionException past = assertThrows(ExecutionException.class,
                    () -> admin.deleteRecords(Map.of(TP, RecordsToDelete.beforeOffset(101))).all().get());
            assertThat(past.getCause()).isInstanceOf(OffsetOutOfRangeException.class);
            assertThat(admin.deleteRecords(Map.of(TP, RecordsToDelete.beforeOffset(10))).lowWatermarks().get(TP).get().lowWatermark())
                    .as("below the start: nothing more deleted").isEqualTo(25);
        }
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            assertThat(earliest(admin)).as("after a restart").isEqualTo(25);
            assertThat(values(broker, 75)).first().isEqualTo("25=v25");

            assertThat(admin.deleteRecords(Map.of(TP, RecordsToDelete.beforeOffset(100))).lowWatermarks().get(TP).get().lowWatermark())
                    .as("everything").isEqualTo(100);
        }
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            assertThat(earliest(admin)).isEqualTo(100);
            assertThat(admin.listOffsets(Map.of(TP, OffsetSpec.latest())).partitionResult(TP).get().offset())
                    .as("the log end survives deleting everything").isEqualTo(100);
            produceInBatchesOfTen(broker, 100, 10);
            assertThat(values(broker, 10)).first().isEqualTo("100=v100");
        }
    }

    private static long earliest(Admin admin) throws Exception {
        return admin.listOffsets(Map.of(TP, OffsetSpec.earliest())).partitionResult(TP).get().offset();
    }

    private static List<String> values(TestBroker broker, int expected) {
        List<String> got = new ArrayList<>();
        for (ConsumerRecord<String, String> r : broker.readFromStart(TP.topic(), 1, expected)) {
            got.add(r.offset() + "=" + r.value());
        }
        assertThat(got).hasSize(expected);
        return got;
    }

    /** Ten records per send round, flushed together: batches of several records, so a delete can cut inside one. */
    private static void produceInBatchesOfTen(TestBroker broker, int from, int count) throws Exception {
        Properties p = broker.clientProps();
        p.put("acks", "all");
        p.put("linger.ms", "1000");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int i = from; i < from + count; i += 10) {
                List<Future<RecordMetadata>> sent = new ArrayList<>();
                for (int j = i; j < i + 10; j++) {
                    sent.add(producer.send(new ProducerRecord<>(TP.topic(), 0, null, "v" + j)));
                }
                producer.flush();
                for (Future<RecordMetadata> f : sent) {
                    f.get();
                }
            }
        }
    }
}
