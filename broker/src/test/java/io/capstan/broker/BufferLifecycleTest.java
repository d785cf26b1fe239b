package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.util.ResourceLeakDetector;
import io.capstan.broker.log.ShardTraffic;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Produced batches travel from the request frame they arrived in to the log and its off-heap tail cache, and fetch
 * answers carry references to the cache's buffers to the encoder, without heap copies. What that must not cost:
 * a record changed because a buffer was reused while the log still read it, or pooled memory never freed because a
 * path forgot a release. Every record is read back and compared; Netty's leak detector watches every buffer
 * (paranoid level) through each way a fetch answer can end: written, read again after a wait, abandoned with its
 * connection, emptied by a quota.
 */
class BufferLifecycleTest {
    @TempDir
    Path dir;

    private ResourceLeakDetector.Level levelBefore;

    @BeforeEach
    void watchEveryBuffer() {
        levelBefore = CountingLeakDetector.watchEveryBuffer();
    }

    @AfterEach
    void restoreLevel() {
        CountingLeakDetector.stopWatchingEveryBuffer(levelBefore);
    }

    @Test
    void everyRecordReadsBackAsSentAndEveryBufferTheBrokerHeldIsFreed() throws Exception {
        int reportsBefore = CountingLeakDetector.reports().size();
        // a small cache: most batches are evicted while readers may hold them, and older ones are read from the store
        try (TestBroker broker = new TestBroker(dir, Map.of("tail.cache.bytes.per.shard", "262144"));
             Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("t", 2, (short) 1))).all().get();
            Set<String> sent = new HashSet<>();
            produce(broker, sent, 3_000, 1_000, "5"); // large batches: data files, frames sliced
            produce(broker, sent, 30, 50, "0");        // one record per batch, below 512 bytes: stored inline

            List<ConsumerRecord<String, String>> read = broker.readFromStart("t", 2, sent.size());
            Set<String> got = new HashSet<>();
            read.forEach(r -> got.add(r.value()));
            assertThat(read).as("each record once").hasSize(sent.size());
            assertThat(got).as("each record as it was sent").isEqualTo(sent);

            short version = ApiKeys.FETCH.latestVersion();
            // the newest records, which the tail cache holds: fetches below take references to its buffers
            long recent = broker.broker().logs().catalog().shard(new TopicPartition("t", 0)).highWatermark() - 20;
            ShardTraffic traffic = broker.broker().logs().catalog().shard(new TopicPartition("t", 0)).traffic();
            try (RawKafkaConnection raw = new RawKafkaConnection(broker.broker().port())) {
                // reads, finds too little, lets go of what it read, waits, reads again and answers with it
                long consumedBefore = traffic.bytesOut();
                raw.sendRaw(RawKafkaConnection.frameBody(ApiKeys.FETCH, version, 1, fetch(broker, recent, 100_000_000, 300)));
                FetchResponseData answer = (FetchResponseData) raw.receive(ApiKeys.FETCH, version, 1);
                int answered = answer.responses().get(0).partitions().get(0).records().sizeInBytes();
                assertThat(answered).isPositive();
                assertThat(traffic.bytesOut() - consumedBefore).as("consumed: what the answer carried, not the reads before the wait")
                        .isEqualTo(answered);
            }
            try (RawKafkaConnection raw = new RawKafkaConnection(broker.broker().port())) {
                // parked after a read of everything there is, then abandoned with its connection
                raw.sendRaw(RawKafkaConnection.frameBody(ApiKeys.FETCH, version, 2, fetch(broker, recent, Integer.MAX_VALUE, Integer.MAX_VALUE)));
                await().atMost(Duration.ofSeconds(30)).until(() -> broker.broker().parkedFetches() == 1);
            }
            await("the abandoned fetch let go").atMost(Duration.ofSeconds(30)).until(() -> broker.broker().parkedFetches() == 0);

            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(new ClientQuotaEntity(nullClientId()),
                    List.of(new ClientQuotaAlteration.Op("consumer_byte_rate", 1_024.0))))).all().get();
            await("the quota in force").atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                try (RawKafkaConnection raw = new RawKafkaConnection(broker.broker().port())) {
                    raw.sendRaw(RawKafkaConnection.frameBody(ApiKeys.FETCH, version, 3, fetch(broker, recent, 1, 0)));
                    FetchResponseData throttled = (FetchResponseData) raw.receive(ApiKeys.FETCH, version, 3);
                    assertThat(throttled.throttleTimeMs()).isPositive();
                    assertThat(throttled.responses().get(0).partitions().get(0).records().sizeInBytes())
                            .as("a throttled fetch answers without its records").isZero();
                }
            });
            long consumedBefore = traffic.bytesOut();
            try (RawKafkaConnection raw = new RawKafkaConnection(broker.broker().port())) {
                raw.sendRaw(RawKafkaConnection.frameBody(ApiKeys.FETCH, version, 4, fetch(broker, recent, 1, 0)));
                FetchResponseData throttled = (FetchResponseData) raw.receive(ApiKeys.FETCH, version, 4);
                assertThat(throttled.throttleTimeMs()).as("still over the quota").isPositive();
            }
            assertThat(traffic.bytesOut()).as("records a quota dropped are not counted as consumed").isEqualTo(consumedBefore);
        }
        CountingLeakDetector.assertNothingLeakedSince(reportsBefore);
    }

    private static void produce(TestBroker broker, Set<String> sent, int records, int size, String lingerMs) throws Exception {
        Properties p = broker.clientProps();
        p.put("acks", "all");
        p.put("linger.ms", lingerMs);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (int i = 0; i < records; i++) {
                String value = (size + "-" + i + "-").repeat(size).substring(0, size - 8) + String.format("%08d", i);
                sent.add(value);
                acks.add(producer.send(new ProducerRecord<>("t", i % 2, null, value)));
                if ("0".equals(lingerMs)) {
                    acks.get(acks.size() - 1).get();
                }
            }
            for (Future<RecordMetadata> ack : acks) {
                ack.get();
            }
        }
    }

    private static Map<String, String> nullClientId() {
        Map<String, String> entity = new java.util.HashMap<>();
        entity.put(ClientQuotaEntity.CLIENT_ID, null); // the default for every client id
        return entity;
    }

    private static FetchRequestData fetch(TestBroker broker, long offset, int minBytes, int maxWaitMs) {
        FetchRequestData.FetchTopic topic = new FetchRequestData.FetchTopic()
                .setTopicId(broker.broker().logs().catalog().topic("t").id()).setTopic("t");
        topic.partitions().add(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(offset).setPartitionMaxBytes(1 << 20));
        return new FetchRequestData().setReplicaId(-1).setMaxWaitMs(maxWaitMs).setMinBytes(minBytes)
                .setMaxBytes(1 << 20).setTopics(List.of(topic));
    }
}
