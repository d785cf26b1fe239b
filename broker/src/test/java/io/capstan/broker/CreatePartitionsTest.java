package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.CreatePartitionsOptions;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CreatePartitions with Kafka's Admin client on one broker: the topic grows, the new partitions take and serve records
 * (and keep them over a restart), shrinking and unknown topics are refused as Kafka refuses them, and the cluster's
 * partition limit (max.partitions) holds for CreatePartitions and CreateTopics alike.
 */
class CreatePartitionsTest {
    @TempDir
    Path dir;

    @Test
    void aTopicGrowsAndItsNewPartitionsServeRecordsAlsoAfterARestart() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("growing", 1, (short) 1))).all().get();
            produce(broker, "growing", 0, "before");

            admin.createPartitions(Map.of("growing", NewPartitions.increaseTo(2)), new CreatePartitionsOptions().validateOnly(true)).all().get();
            assertThat(partitions(admin, "growing")).as("validate-only").isEqualTo(1);

            admin.createPartitions(Map.of("growing", NewPartitions.increaseTo(3))).all().get();
            assertThat(partitions(admin, "growing")).isEqualTo(3);
            produce(broker, "growing", 2, "new-partition");

            ExecutionException shrink = assertThrows(ExecutionException.class,
                    () -> admin.createPartitions(Map.of("growing", NewPartitions.increaseTo(2))).all().get());
            assertThat(shrink.getCause()).isInstanceOf(InvalidPartitionsException.class)
                    .hasMessage("Topic currently has 3 partitions, which is higher than the requested 2.");
            ExecutionException same = assertThrows(ExecutionException.class,
                    () -> admin.createPartitions(Map.of("growing", NewPartitions.increaseTo(3))).all().get());
            assertThat(same.getCause()).isInstanceOf(InvalidPartitionsException.class).hasMessage("Topic already has 3 partitions.");
            ExecutionException missing = assertThrows(ExecutionException.class,
                    () -> admin.createPartitions(Map.of("absent", NewPartitions.increaseTo(3))).all().get());
            assertThat(missing.getCause()).isInstanceOf(UnknownTopicOrPartitionException.class);
        }
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            assertThat(partitions(admin, "growing")).as("after a restart").isEqualTo(3);
            assertThat(TestBroker.readFromStart(broker.clientProps(), "growing", 3, 2)).extracting(r -> r.partition() + "=" + r.value())
                    .containsExactlyInAnyOrder("0=before", "2=new-partition");
            produce(broker, "growing", 1, "after-restart");
        }
    }

    @Test
    void theClusterPartitionLimitHoldsForNewTopicsAndNewPartitions() throws Exception {
        // five in all: the offsets shard takes one
        try (TestBroker broker = new TestBroker(dir, Map.of("max.partitions", "5")); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("limited", 2, (short) 1))).all().get();
            admin.createPartitions(Map.of("limited", NewPartitions.increaseTo(4))).all().get();
            ExecutionException grow = assertThrows(ExecutionException.class,
                    () -> admin.createPartitions(Map.of("limited", NewPartitions.increaseTo(5))).all().get());
            assertThat(grow.getCause()).isInstanceOf(PolicyViolationException.class).hasMessageContaining("max.partitions");
            ExecutionException create = assertThrows(ExecutionException.class,
                    () -> admin.createTopics(List.of(new NewTopic("one-more", 1, (short) 1))).all().get());
            assertThat(create.getCause()).isInstanceOf(PolicyViolationException.class).hasMessageContaining("max.partitions");
            assertThat(partitions(admin, "limited")).isEqualTo(4);
            assertThat(admin.listTopics().names().get()).doesNotContain("one-more");
            produce(broker, "limited", 3, "still-served");
        }
    }

    private static int partitions(Admin admin, String topic) throws Exception {
        return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
    }

    private static void produce(TestBroker broker, String topic, int partition, String value) throws Exception {
        Properties p = broker.clientProps();
        p.put("acks", "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, partition, null, value)).get();
        }
    }
}
