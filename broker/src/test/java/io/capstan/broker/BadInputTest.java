package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every kind of bad input gets a clear answer (or a closed connection), loses nothing, and leaves the broker serving. */
class BadInputTest {
    static final short PRODUCE_V = 11;
    static final int MAX_FRAME = 1 << 20;
    static final int MAX_BATCH = 16 << 10;

    @TempDir
    Path dir;
    TestBroker broker;

    @BeforeEach
    void start() throws IOException {
        broker = new TestBroker(dir, Map.of("socket.request.max.bytes", String.valueOf(MAX_FRAME),
                "message.max.bytes", String.valueOf(MAX_BATCH)));
        try (RawKafkaConnection c = connect()) {
            CreateTopicsRequestData req = new CreateTopicsRequestData().setTimeoutMs(10_000);
            req.topics().add(new CreateTopicsRequestData.CreatableTopic().setName("t").setNumPartitions(1).setReplicationFactor((short) 1));
            CreateTopicsResponseData resp = c.send(ApiKeys.CREATE_TOPICS, (short) 7, req);
            assertThat(resp.topics().find("t").errorCode()).isEqualTo(Errors.NONE.code());
        }
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    RawKafkaConnection connect() throws IOException {
        return new RawKafkaConnection(broker.broker().port());
    }

    long logEnd() {
        return broker.broker().logs().catalog().shard(new TopicPartition("t", 0)).highWatermark();
    }

    void assertStillServing() throws IOException {
        try (RawKafkaConnection c = connect()) {
            ApiVersionsResponseData r = c.send(ApiKeys.API_VERSIONS, (short) 3,
                    new ApiVersionsRequestData().setClientSoftwareName("t").setClientSoftwareVersion("1"));
            assertThat(r.errorCode()).isEqualTo(Errors.NONE.code());
        }
    }

    @Test
    void malformedFrameClosesTheConnectionOnly() throws IOException {
        try (RawKafkaConnection c = connect()) {
            // a Produce header followed by a body that ends in the middle of a field
            byte[] frame = RawKafkaConnection.frameBody(ApiKeys.PRODUCE, PRODUCE_V, 1, Batches.produce("t", 0, Batches.plain("x")));
            byte[] truncated = java.util.Arrays.copyOf(frame, frame.length / 2);
            c.sendRaw(truncated);
            assertThat(c.closedByBroker()).isTrue();
        }
        assertThat(logEnd()).isZero();
        assertStillServing();
    }

    @Test
    void frameAboveMaxIsRefusedFromItsLengthAlone() throws IOException {
        try (RawKafkaConnection c = connect()) {
            // announce 512 MiB and send nothing else: the broker must close without waiting for (or allocating) the body
            c.sendBytes(ByteBuffer.allocate(4).putInt(512 << 20).array());
            assertThat(c.closedByBroker()).isTrue();
        }
        try (RawKafkaConnection c = connect()) {
            c.sendBytes(ByteBuffer.allocate(4).putInt(-7).array());
            assertThat(c.closedByBroker()).isTrue();
        }
        assertStillServing();
    }

    @Test
    void unknownApiKeyClosesTheConnection() throws IOException {
        try (RawKafkaConnection c = connect()) {
            c.sendRaw(ByteBuffer.allocate(12).putShort((short) 999).putShort((short) 0).putInt(1).putShort((short) -1).array());
            assertThat(c.closedByBroker()).isTrue();
        }
        try (RawKafkaConnection c = connect()) {
            // a real Kafka API this broker does not implement (one data directory per broker) is absent from ApiVersions and refused
            ApiVersionsResponseData r = c.send(ApiKeys.API_VERSIONS, (short) 3, new ApiVersionsRequestData());
            assertThat(r.apiKeys().find(ApiKeys.ALTER_REPLICA_LOG_DIRS.id)).isNull();
            c.sendRaw(ByteBuffer.allocate(12).putShort(ApiKeys.ALTER_REPLICA_LOG_DIRS.id).putShort((short) 1).putInt(2).putShort((short) -1).array());
            assertThat(c.closedByBroker()).isTrue();
        }
        assertStillServing();
    }

    @Test
    void unsupportedVersionOfApiVersionsIsAnsweredInV0WithOurRanges() throws IOException {
        try (RawKafkaConnection c = connect()) {
            // KIP-511: a newer client sends a version we do not know; we answer v0 with UNSUPPORTED_VERSION
            short future = (short) (ApiKeys.API_VERSIONS.latestVersion() + 5);
            byte[] frame = ByteBuffer.allocate(12).putShort(ApiKeys.API_VERSIONS.id).putShort(future).putInt(42).putShort((short) -1).array();
            c.sendRaw(frame);
            ApiVersionsResponseData r = (ApiVersionsResponseData) c.receive(ApiKeys.API_VERSIONS, (short) 0, (short) 0, 42);
            assertThat(r.errorCode()).isEqualTo(Errors.UNSUPPORTED_VERSION.code());
            assertThat(r.apiKeys().find(ApiKeys.PRODUCE.id)).isNotNull();
        }
    }

    @Test
    void unsupportedVersionOfOtherApisClosesTheConnection() throws IOException {
        try (RawKafkaConnection c = connect()) {
            short future = (short) (ApiKeys.METADATA.latestVersion() + 3);
            c.sendRaw(ByteBuffer.allocate(12).putShort(ApiKeys.METADATA.id).putShort(future).putInt(1).putShort((short) -1).array());
            assertThat(c.closedByBroker()).isTrue();
        }
        assertStillServing();
    }

    @Test
    void crcMismatchIsRejectedAndNothingIsAppended() throws IOException {
        try (RawKafkaConnection c = connect()) {
            MemoryRecords bad = Batches.corrupted(Batches.plain("a", "b", "c"));
            ProduceResponseData r = c.send(ApiKeys.PRODUCE, PRODUCE_V, Batches.produce("t", 0, bad));
            var p = r.responses().iterator().next().partitionResponses().get(0);
            assertThat(p.errorCode()).isEqualTo(Errors.CORRUPT_MESSAGE.code());
            assertThat(p.errorMessage()).contains("CRC");
            assertThat(logEnd()).isZero();
            // the same connection goes on working: a good batch lands at offset 0
            ProduceResponseData ok = c.send(ApiKeys.PRODUCE, PRODUCE_V, Batches.produce("t", 0, Batches.plain("a", "b", "c")));
            assertThat(ok.responses().iterator().next().partitionResponses().get(0).baseOffset()).isZero();
            assertThat(logEnd()).isEqualTo(3);
        }
    }

    @Test
    void timestampsTooFarFromTheBrokersClockAreRefusedAndNothingIsAppended() throws IOException {
        long hour = 3_600_000;
        try (RawKafkaConnection c = connect()) {
            // the default, as Kafka 4: at most an hour ahead
            var ahead = produceAt(c, "t", System.currentTimeMillis() + 2 * hour);
            assertThat(ahead.errorCode()).isEqualTo(Errors.INVALID_TIMESTAMP.code());
            assertThat(ahead.errorMessage()).contains("ahead of the broker's clock", "message.timestamp.after.max.ms allows 3600000 ms");
            assertThat(produceAt(c, "t", System.currentTimeMillis() + 60_000).errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(produceAt(c, "t", 0).errorCode()).as("old timestamps pass by default").isEqualTo(Errors.NONE.code());
            assertThat(logEnd()).isEqualTo(2);
            // per topic, as Kafka's message.timestamp.before.max.ms
            CreateTopicsRequestData req = new CreateTopicsRequestData().setTimeoutMs(10_000);
            CreateTopicsRequestData.CreatableTopic recent = new CreateTopicsRequestData.CreatableTopic().setName("recent").setNumPartitions(1).setReplicationFactor((short) 1);
            recent.configs().add(new CreateTopicsRequestData.CreatableTopicConfig().setName("message.timestamp.before.max.ms").setValue("60000"));
            req.topics().add(recent);
            assertThat(((CreateTopicsResponseData) c.send(ApiKeys.CREATE_TOPICS, (short) 7, req)).topics().find("recent").errorCode()).isZero();
            var old = produceAt(c, "recent", System.currentTimeMillis() - 2 * 60_000);
            assertThat(old.errorCode()).isEqualTo(Errors.INVALID_TIMESTAMP.code());
            assertThat(old.errorMessage()).contains("behind the broker's clock", "allows 60000 ms");
            assertThat(produceAt(c, "recent", System.currentTimeMillis()).errorCode()).isEqualTo(Errors.NONE.code());
        }
        assertStillServing();
    }

    private static ProduceResponseData.PartitionProduceResponse produceAt(RawKafkaConnection c, String topic, long timestamp) throws IOException {
        ProduceResponseData r = c.send(ApiKeys.PRODUCE, PRODUCE_V, Batches.produce(topic, 0, Batches.at(timestamp, "v@" + timestamp)));
        return r.responses().iterator().next().partitionResponses().get(0);
    }

    @Test
    void produceToUnknownTopicOrPartitionIsRefused() throws IOException {
        try (RawKafkaConnection c = connect()) {
            ProduceResponseData r = c.send(ApiKeys.PRODUCE, PRODUCE_V, Batches.produce("nope", 0, Batches.plain("a")));
            assertThat(r.responses().iterator().next().partitionResponses().get(0).errorCode())
                    .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
            ProduceResponseData r2 = c.send(ApiKeys.PRODUCE, PRODUCE_V, Batches.produce("t", 7, Batches.plain("a")));
            assertThat(r2.responses().iterator().next().partitionResponses().get(0).errorCode())
                    .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
            // auto-creation is off by default, so metadata for an unknown topic reports it unknown and creates nothing
            var md = (org.apache.kafka.common.message.MetadataResponseData) c.send(ApiKeys.METADATA, (short) 12,
                    new MetadataRequestData().setTopics(java.util.List.of(new MetadataRequestData.MetadataRequestTopic().setName("nope")))
                            .setAllowAutoTopicCreation(true));
            assertThat(md.topics().find("nope").errorCode()).isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
            assertThat(broker.broker().logs().catalog().topic("nope")).isNull();
        }
    }

    @Test
    void batchOverMessageMaxBytesIsRefused() throws IOException {
        try (RawKafkaConnection c = connect()) {
            String big = "x".repeat(MAX_BATCH + 100);
            ProduceResponseData r = c.send(ApiKeys.PRODUCE, PRODUCE_V, Batches.produce("t", 0, Batches.plain(big)));
            var p = r.responses().iterator().next().partitionResponses().get(0);
            assertThat(p.errorCode()).isEqualTo(Errors.MESSAGE_TOO_LARGE.code());
            assertThat(p.errorMessage()).contains("message.max.bytes");
        }
        assertThat(logEnd()).isZero();
    }

    @Test
    void invalidTopicRequestsGetNamedErrors() throws IOException {
        try (RawKafkaConnection c = connect()) {
            CreateTopicsRequestData req = new CreateTopicsRequestData().setTimeoutMs(10_000);
            req.topics().add(new CreateTopicsRequestData.CreatableTopic().setName("bad name!").setNumPartitions(1).setReplicationFactor((short) 1));
            req.topics().add(new CreateTopicsRequestData.CreatableTopic().setName("zero").setNumPartitions(0).setReplicationFactor((short) 1));
            req.topics().add(new CreateTopicsRequestData.CreatableTopic().setName("rf3").setNumPartitions(1).setReplicationFactor((short) 3));
            CreateTopicsRequestData.CreatableTopic badConfig = new CreateTopicsRequestData.CreatableTopic().setName("cfg").setNumPartitions(1).setReplicationFactor((short) 1);
            badConfig.configs().add(new CreateTopicsRequestData.CreatableTopicConfig().setName("retention.ms").setValue("soon"));
            req.topics().add(badConfig);
            CreateTopicsRequestData.CreatableTopic overflowing = new CreateTopicsRequestData.CreatableTopic().setName("huge").setNumPartitions(1).setReplicationFactor((short) 1);
            overflowing.configs().add(new CreateTopicsRequestData.CreatableTopicConfig().setName("max.message.bytes").setValue("4294967296"));
            req.topics().add(overflowing);
            CreateTopicsResponseData r = c.send(ApiKeys.CREATE_TOPICS, (short) 7, req);
            assertThat(r.topics().find("huge").errorCode()).isEqualTo(Errors.INVALID_CONFIG.code());
            assertThat(r.topics().find("huge").errorMessage()).contains("max.message.bytes", "2147483647");
            assertThat(r.topics().find("bad name!").errorCode()).isEqualTo(Errors.INVALID_TOPIC_EXCEPTION.code());
            assertThat(r.topics().find("zero").errorCode()).isEqualTo(Errors.INVALID_PARTITIONS.code());
            assertThat(r.topics().find("rf3").errorCode()).isEqualTo(Errors.INVALID_REPLICATION_FACTOR.code());
            assertThat(r.topics().find("cfg").errorCode()).isEqualTo(Errors.INVALID_CONFIG.code());
            assertThat(r.topics().find("cfg").errorMessage()).contains("retention.ms");
        }
        assertThat(broker.broker().logs().catalog().topics()).extracting(t -> t.name())
                .containsExactlyInAnyOrder("t", "__capstan_offsets");
    }
}
