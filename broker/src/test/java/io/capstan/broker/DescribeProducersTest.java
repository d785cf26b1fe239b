package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DescribeProducers through the admin client: each idempotent producer's epoch, last sequence and last timestamp. */
class DescribeProducersTest {
    @TempDir
    Path dir;

    @Test
    void listsTheIdempotentProducersOfAPartition() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("watched", 1, (short) 1))).all().get();
            TopicPartition tp = new TopicPartition("watched", 0);
            long before = System.currentTimeMillis();
            Properties p = broker.clientProps();
            p.put("enable.idempotence", "true");
            p.put("acks", "all");
            try (KafkaProducer<String, String> first = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
                 KafkaProducer<String, String> second = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < 3; i++) {
                    first.send(new ProducerRecord<>("watched", "k", "v" + i)).get();
                }
                second.send(new ProducerRecord<>("watched", "k", "w")).get();
            }
            List<ProducerState> producers = admin.describeProducers(List.of(tp)).partitionResult(tp).get().activeProducers();
            assertThat(producers).hasSize(2);
            assertThat(producers).extracting(ProducerState::lastSequence).containsExactlyInAnyOrder(2, 0);
            assertThat(producers).allSatisfy(s -> {
                assertThat(s.producerEpoch()).isZero();
                assertThat(s.lastTimestamp()).isBetween(before, System.currentTimeMillis());
                assertThat(s.coordinatorEpoch()).isEmpty();
                assertThat(s.currentTransactionStartOffset()).isEmpty();
            });
            assertThat(producers.stream().map(ProducerState::producerId).distinct()).hasSize(2);

            // the admin client never sends a partition its metadata lacks (it retries the lookup): asked directly
            try (RawKafkaConnection raw = new RawKafkaConnection(broker.broker().port())) {
                var topics = new org.apache.kafka.common.message.DescribeProducersRequestData.TopicRequestCollection();
                topics.add(new org.apache.kafka.common.message.DescribeProducersRequestData.TopicRequest().setName("watched")
                        .setPartitionIndexes(List.of(0, 7)));
                org.apache.kafka.common.message.DescribeProducersResponseData answer = raw.send(
                        org.apache.kafka.common.protocol.ApiKeys.DESCRIBE_PRODUCERS, (short) 0,
                        new org.apache.kafka.common.message.DescribeProducersRequestData().setTopics(topics));
                var partitions = answer.topics().iterator().next().partitions();
                assertThat(partitions.get(0).activeProducers()).hasSize(2);
                assertThat(org.apache.kafka.common.protocol.Errors.forCode(partitions.get(1).errorCode()))
                        .isEqualTo(org.apache.kafka.common.protocol.Errors.UNKNOWN_TOPIC_OR_PARTITION);
            }
        }
    }
}
