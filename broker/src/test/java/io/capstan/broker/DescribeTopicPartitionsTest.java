package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.message.DescribeTopicPartitionsRequestData;
import org.apache.kafka.common.message.DescribeTopicPartitionsRequestData.TopicRequest;
import org.apache.kafka.common.message.DescribeTopicPartitionsResponseData;
import org.apache.kafka.common.message.DescribeTopicPartitionsResponseData.DescribeTopicPartitionsResponseTopic;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DescribeTopicPartitions (KIP-966): the admin client's paged describe, and the cursor rules as Kafka applies them. */
class DescribeTopicPartitionsTest {
    @TempDir
    Path dir;

    @Test
    void pagesThroughTopicsInNameOrderWithACursor() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("beta", 3, (short) 1), new NewTopic("alpha", 5, (short) 1))).all().get();

            // the admin client pages two partitions at a time and stitches the answers together
            Map<String, TopicDescription> described = admin.describeTopics(List.of("alpha", "beta"),
                    new DescribeTopicsOptions().partitionSizeLimitPerResponse(2)).allTopicNames().get();
            assertThat(described.get("alpha").partitions()).extracting(p -> p.partition()).containsExactly(0, 1, 2, 3, 4);
            assertThat(described.get("beta").partitions()).extracting(p -> p.partition()).containsExactly(0, 1, 2);
            assertThat(described.get("alpha").partitions().get(0).leader().id()).isZero();

            try (RawKafkaConnection raw = new RawKafkaConnection(broker.broker().port())) {
                // all topics, the internal offsets topic (one partition) first by name, as Kafka lists __consumer_offsets
                DescribeTopicPartitionsResponseData first = raw.send(ApiKeys.DESCRIBE_TOPIC_PARTITIONS, (short) 0,
                        new DescribeTopicPartitionsRequestData().setResponsePartitionLimit(5));
                assertThat(first.topics()).extracting(DescribeTopicPartitionsResponseTopic::name).containsExactly("__capstan_offsets", "alpha");
                assertThat(topics(first).get(0).isInternal()).isTrue();
                assertThat(topics(first).get(1).partitions()).hasSize(4);
                assertThat(first.nextCursor().topicName()).isEqualTo("alpha");
                assertThat(first.nextCursor().partitionIndex()).isEqualTo(4);

                DescribeTopicPartitionsResponseData second = raw.send(ApiKeys.DESCRIBE_TOPIC_PARTITIONS, (short) 0,
                        new DescribeTopicPartitionsRequestData().setResponsePartitionLimit(5)
                                .setCursor(new DescribeTopicPartitionsRequestData.Cursor().setTopicName("alpha").setPartitionIndex(4)));
                assertThat(second.topics()).extracting(DescribeTopicPartitionsResponseTopic::name).containsExactly("alpha", "beta");
                assertThat(topics(second).get(0).partitions()).extracting(p -> p.partitionIndex()).containsExactly(4);
                assertThat(topics(second).get(1).partitions()).extracting(p -> p.partitionIndex()).containsExactly(0, 1, 2);

                DescribeTopicPartitionsResponseData missing = raw.send(ApiKeys.DESCRIBE_TOPIC_PARTITIONS, (short) 0,
                        new DescribeTopicPartitionsRequestData().setTopics(List.of(new TopicRequest().setName("absent"),
                                new TopicRequest().setName("beta"))).setResponsePartitionLimit(100));
                assertThat(missing.topics()).extracting(DescribeTopicPartitionsResponseTopic::name).containsExactly("absent", "beta");
                assertThat(Errors.forCode(topics(missing).get(0).errorCode())).isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION);
                assertThat(missing.nextCursor()).isNull();

                DescribeTopicPartitionsResponseData badCursor = raw.send(ApiKeys.DESCRIBE_TOPIC_PARTITIONS, (short) 0,
                        new DescribeTopicPartitionsRequestData().setTopics(List.of(new TopicRequest().setName("beta")))
                                .setCursor(new DescribeTopicPartitionsRequestData.Cursor().setTopicName("alpha").setPartitionIndex(0)));
                assertThat(badCursor.topics()).as("the cursor's topic must be among those asked, as in Kafka")
                        .allMatch(t -> t.errorCode() == Errors.INVALID_REQUEST.code());
            }
        }
    }

    private static List<DescribeTopicPartitionsResponseTopic> topics(DescribeTopicPartitionsResponseData response) {
        return new java.util.ArrayList<>(response.topics());
    }
}
