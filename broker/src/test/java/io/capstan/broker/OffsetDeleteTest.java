package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.GroupSubscribedToTopicException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OffsetDelete with Kafka's Admin client: a group's committed offset of a topic it no longer consumes goes (durably,
 * also after a restart); one of a topic a live member subscribes to stays with GROUP_SUBSCRIBED_TO_TOPIC until the
 * member leaves; an unknown group is GROUP_ID_NOT_FOUND.
 */
class OffsetDeleteTest {
    private static final TopicPartition CONSUMED = new TopicPartition("consumed", 0);
    private static final TopicPartition ABANDONED = new TopicPartition("abandoned", 0);

    @TempDir
    Path dir;

    @Test
    void offsetsOfTopicsNobodyConsumesAreDeletedAndThoseOfSubscribedTopicsStay() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic(CONSUMED.topic(), 1, (short) 1), new NewTopic(ABANDONED.topic(), 1, (short) 1))).all().get();
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(broker.clientProps(), new StringSerializer(), new StringSerializer())) {
                producer.send(new ProducerRecord<>(CONSUMED.topic(), "k", "v")).get();
            }
            Properties p = broker.clientProps();
            p.put("group.id", "g");
            p.put("enable.auto.commit", "false");
            p.put("auto.offset.reset", "earliest");
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
                consumer.subscribe(List.of(CONSUMED.topic()));
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (consumer.assignment().isEmpty() && System.nanoTime() < deadline) {
                    consumer.poll(Duration.ofMillis(200));
                }
                assertThat(consumer.assignment()).containsExactly(CONSUMED);
                consumer.commitSync(Map.of(CONSUMED, new OffsetAndMetadata(1), ABANDONED, new OffsetAndMetadata(7)));

                admin.deleteConsumerGroupOffsets("g", Set.of(ABANDONED)).all().get();
                assertThat(committed(admin)).containsOnlyKeys(CONSUMED);

                ExecutionException subscribed = assertThrows(ExecutionException.class,
                        () -> admin.deleteConsumerGroupOffsets("g", Set.of(CONSUMED)).all().get());
                assertThat(subscribed.getCause()).isInstanceOf(GroupSubscribedToTopicException.class);
                assertThat(committed(admin)).containsOnlyKeys(CONSUMED);
            }
            // the member left with close(): nobody consumes the topic now
            admin.deleteConsumerGroupOffsets("g", Set.of(CONSUMED)).all().get();
            assertThat(committed(admin)).isEmpty();

            ExecutionException unknown = assertThrows(ExecutionException.class,
                    () -> admin.deleteConsumerGroupOffsets("nobody", Set.of(CONSUMED)).all().get());
            assertThat(unknown.getCause()).isInstanceOf(GroupIdNotFoundException.class);
        }
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            assertThat(committed(admin)).as("deleted durably").isEmpty();
        }
    }

    private static Map<TopicPartition, OffsetAndMetadata> committed(Admin admin) throws Exception {
        return admin.listConsumerGroupOffsets("g").partitionsToOffsetAndMetadata().get();
    }
}
