package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DescribeLogDirs with Kafka's Admin client: the data directory, each shard's stored bytes, the volume's space. */
class DescribeLogDirsTest {
    @TempDir
    Path dir;

    @Test
    void theDataDirectoryListsEveryShardWithItsSize() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("sized", 2, (short) 1))).all().get();
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(broker.clientProps(), new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < 20; i++) {
                    producer.send(new ProducerRecord<>("sized", 1, null, "x".repeat(1000))).get();
                }
            }
            Map<String, LogDirDescription> dirs = admin.describeLogDirs(List.of(0)).allDescriptions().get().get(0);
            assertThat(dirs).containsOnlyKeys(dir.toAbsolutePath().toString());
            LogDirDescription description = dirs.get(dir.toAbsolutePath().toString());
            assertThat(description.error()).isNull();
            assertThat(description.totalBytes()).isPresent();
            assertThat(description.usableBytes()).isPresent();
            assertThat(description.totalBytes().getAsLong()).isPositive();
            assertThat(description.usableBytes().getAsLong()).isPositive().isLessThanOrEqualTo(description.totalBytes().getAsLong());
            Map<TopicPartition, ReplicaInfo> replicas = description.replicaInfos();
            assertThat(replicas).containsKeys(new TopicPartition("sized", 0), new TopicPartition("sized", 1));
            assertThat(replicas.get(new TopicPartition("sized", 0)).size()).isZero();
            long stored = broker.broker().logs().catalog().shard(new TopicPartition("sized", 1)).sizeBytes();
            assertThat(replicas.get(new TopicPartition("sized", 1)).size()).isEqualTo(stored).isGreaterThan(20_000);
        }
    }
}
