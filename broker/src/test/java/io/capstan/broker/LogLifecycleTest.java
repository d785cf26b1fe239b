package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Recovery after restart, retention by time and bytes, and the admin HTTP endpoints. */
class LogLifecycleTest {
    @TempDir
    Path dir;

    @Test
    void topicsRecordsAndOffsetsSurviveARestart() throws Exception {
        String topicId;
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("keep", 3, (short) 1).configs(Map.of("retention.ms", "86400000")))).all().get();
            topicId = admin.describeTopics(List.of("keep")).allTopicNames().get().get("keep").topicId().toString();
            produce(broker, "keep", 300, 0);
        }
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            var d = admin.describeTopics(List.of("keep")).allTopicNames().get().get("keep");
            assertThat(d.topicId().toString()).isEqualTo(topicId);
            assertThat(d.partitions()).hasSize(3);
            produce(broker, "keep", 300, 300);
            List<ConsumerRecord<String, String>> all = broker.readFromStart("keep", 3, 600);
            assertThat(all).hasSize(600);
            assertThat(all.stream().map(ConsumerRecord::value).distinct().count()).isEqualTo(600);
            long total = 0;
            for (int p = 0; p < 3; p++) {
                total += broker.broker().logs().catalog().shard(new TopicPartition("keep", p)).highWatermark();
            }
            assertThat(total).isEqualTo(600);
        }
    }

    @Test
    void intervalFlushPolicyAcknowledgesAndKeepsDataAcrossACleanRestart() throws Exception {
        Map<String, String> interval = Map.of("log.flush.policy", "interval", "log.flush.interval.ms", "20");
        try (TestBroker broker = new TestBroker(dir, interval); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("fast", 1, (short) 1))).all().get();
            produce(broker, "fast", 1000, 0);
        }
        try (TestBroker broker = new TestBroker(dir, interval)) {
            assertThat(broker.readFromStart("fast", 1, 1000)).hasSize(1000);
        }
    }

    @Test
    void retentionByTimeDropsOldBatchesButKeepsTheNewest() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("old", 1, (short) 1).configs(Map.of("retention.ms", "60000")))).all().get();
            long now = System.currentTimeMillis();
            try (KafkaProducer<String, String> p = new KafkaProducer<>(props(broker), new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < 10; i++) {
                    // ten batches an hour old, then two fresh ones
                    p.send(new ProducerRecord<>("old", 0, now - 3_600_000, null, "stale-" + i)).get();
                }
                p.send(new ProducerRecord<>("old", 0, now, null, "fresh-0")).get();
                p.send(new ProducerRecord<>("old", 0, now, null, "fresh-1")).get();
            }
            broker.broker().logs().runRetention(now);
            var shard = broker.broker().logs().catalog().shard(new TopicPartition("old", 0));
            assertThat(shard.logStartOffset()).isEqualTo(10);
            assertThat(broker.readFromStart("old", 1, 2)).extracting(ConsumerRecord::value).containsExactly("fresh-0", "fresh-1");
            // everything expired: the newest batch stays so the log end offset is not lost
            broker.broker().logs().runRetention(now + 3_600_000);
            assertThat(shard.logStartOffset()).isEqualTo(11);
            assertThat(shard.highWatermark()).isEqualTo(12);
        }
        try (TestBroker broker = new TestBroker(dir)) {
            var shard = broker.broker().logs().catalog().shard(new TopicPartition("old", 0));
            assertThat(shard.logStartOffset()).isEqualTo(11);
            assertThat(shard.highWatermark()).isEqualTo(12);
        }
    }

    @Test
    void retentionByBytesKeepsTheShardNearItsLimit() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("big", 1, (short) 1).configs(Map.of("retention.bytes", "100000")))).all().get();
            String value = "v".repeat(1000);
            try (KafkaProducer<String, String> p = new KafkaProducer<>(props(broker), new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < 500; i++) {
                    p.send(new ProducerRecord<>("big", 0, null, value)).get();
                }
            }
            broker.broker().logs().runRetention(System.currentTimeMillis());
            var shard = broker.broker().logs().catalog().shard(new TopicPartition("big", 0));
            int batchSize = (int) (shard.sizeBytes() / (shard.highWatermark() - shard.logStartOffset()));
            // each record is its own batch: what remains is at least retention.bytes and less than one batch more
            assertThat(shard.sizeBytes()).isBetween(100_000L, 100_000L + batchSize);
            assertThat(shard.logStartOffset()).isEqualTo(500 - shard.sizeBytes() / batchSize);
        }
        try (TestBroker broker = new TestBroker(dir)) {
            var shard = broker.broker().logs().catalog().shard(new TopicPartition("big", 0));
            assertThat(shard.sizeBytes()).as("the byte count is persisted").isBetween(100_000L, 102_000L);
        }
    }

    @Test
    void adminEndpointsServeHealthReadinessAndMetrics() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("m", 1, (short) 1))).all().get();
            produce(broker, "m", 10, 0);
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + broker.broker().adminPort();
            assertThat(get(http, base + "/healthz").statusCode()).isEqualTo(200);
            assertThat(get(http, base + "/readyz").statusCode()).isEqualTo(200);
            String metrics = get(http, base + "/metrics").body();
            assertThat(metrics)
                    .contains("capstan_requests_total{api=\"Produce\"}")
                    .contains("capstan_request_latency_seconds_bucket{api=\"Produce\"")
                    .contains("capstan_shard_log_end_offset{partition=\"0\",topic=\"m\"} 10.0")
                    .contains("capstan_group_commit_write_seconds_count")
                    .contains("capstan_group_commit_batches_bucket")
                    .contains("capstan_rocksdb_pending_compaction_bytes")
                    .contains("capstan_rocksdb_memtable_bytes")
                    .contains("capstan_data_files_bytes ").contains("capstan_data_files_live_bytes ")
                    .contains("capstan_data_files_reclaimed_total 0.0").contains("capstan_data_files_moved_bytes_total 0.0")
                    .contains("capstan_connections")
                    .contains("capstan_network_received_bytes_total")
                    .contains("jvm_memory_used_bytes");
            // the produced batches' time in the log, stage by stage: each stage observed once per appended batch, and the
            // fsync before every acknowledgement took time
            double batches = value(metrics, "capstan_group_commit_batches_sum");
            assertThat(batches).isPositive();
            for (String stage : List.of("queue", "write", "sync_queue", "fsync")) {
                assertThat(value(metrics, "capstan_log_append_stage_seconds_count{stage=\"" + stage + "\"}")).as(stage).isEqualTo(batches);
            }
            assertThat(value(metrics, "capstan_log_append_stage_seconds_sum{stage=\"fsync\"}")).isPositive();
        }
    }

    private static double value(String metrics, String series) {
        return metrics.lines().filter(l -> l.startsWith(series + " ")).mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1)))
                .findFirst().orElseThrow(() -> new AssertionError(series + " is not in the metrics"));
    }

    private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    private static Properties props(TestBroker broker) {
        Properties p = broker.clientProps();
        p.put("acks", "all");
        p.put("linger.ms", "0");
        p.put("auto.offset.reset", "earliest");
        return p;
    }

    private static void produce(TestBroker broker, String topic, int count, int from) throws Exception {
        try (KafkaProducer<String, String> p = new KafkaProducer<>(props(broker), new StringSerializer(), new StringSerializer())) {
            for (int i = from; i < from + count; i++) {
                p.send(new ProducerRecord<>(topic, "k" + i, "v" + i));
            }
            p.flush();
        }
    }
}
