package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The committed-offsets shard does not grow without bound: past a size, live offsets are rewritten and history dropped. */
class OffsetCompactionTest {
    @TempDir
    Path dir;

    @Test
    void repeatedCommitsAreCompactedAndSurviveARestart() throws Exception {
        Map<String, String> settings = Map.of("offsets.compaction.bytes", "20000");
        TopicPartition offsetsShard = new TopicPartition("__capstan_offsets", 0);
        Map<TopicPartition, OffsetAndMetadata> last = new HashMap<>();
        try (TestBroker broker = new TestBroker(dir, settings); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("c", 4, (short) 1))).all().get();
            Properties p = broker.clientProps();
            p.put("group.id", "committer");
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                for (int i = 1; i <= 1000; i++) {
                    Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
                    for (int part = 0; part < 4; part++) {
                        commit.put(new TopicPartition("c", part), new OffsetAndMetadata(i * 10L + part, "m" + i));
                    }
                    consumer.commitSync(commit);
                    last.putAll(commit);
                }
            }
            var shard = broker.broker().logs().catalog().shard(offsetsShard);
            await().atMost(Duration.ofSeconds(30)).until(() -> shard.logStartOffset() > 0 && shard.sizeBytes() < 20_000);
            assertThat(admin.listConsumerGroupOffsets("committer").partitionsToOffsetAndMetadata().get()).isEqualTo(last);
        }
        try (TestBroker broker = new TestBroker(dir, settings); Admin admin = Admin.create(broker.clientProps())) {
            assertThat(admin.listConsumerGroupOffsets("committer").partitionsToOffsetAndMetadata().get()).isEqualTo(last);
            assertThat(broker.broker().logs().catalog().shard(offsetsShard).sizeBytes()).isLessThan(20_000);
        }
    }
}
