package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dynamic broker configs with Kafka's Admin client: a cluster default ({@code --entity-default}) and a broker's own value
 * change what the broker enforces at once, without a restart, in Kafka's order of precedence; DescribeConfigs shows
 * each with its source and synonyms; they survive a restart; a static setting, an unknown one and a bad value are
 * refused with INVALID_REQUEST (Kafka's code) naming it, and change nothing.
 */
class DynamicBrokerConfigsTest {
    private static final String TOPIC = "live";
    private static final ConfigResource CLUSTER_DEFAULT = new ConfigResource(ConfigResource.Type.BROKER, "");
    private static final ConfigResource BROKER_0 = new ConfigResource(ConfigResource.Type.BROKER, "0");
    private static final DescribeConfigsOptions SYNONYMS = new DescribeConfigsOptions().includeSynonyms(true);

    @TempDir
    Path dir;

    @Test
    void aClusterDefaultAndABrokersOwnValueApplyLiveInKafkasOrderAndSurviveARestart() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get();
            produce(broker, "k", 4_000);

            set(admin, CLUSTER_DEFAULT, "message.max.bytes", "2048");
            ExecutionException tooLarge = assertThrows(ExecutionException.class, () -> produce(broker, "k", 4_000));
            assertThat(tooLarge.getCause()).as("the cluster default applies at once").isInstanceOf(RecordTooLargeException.class);
            ConfigEntry limit = describe(admin, BROKER_0).get("message.max.bytes");
            assertThat(limit.value()).isEqualTo("2048");
            assertThat(limit.source()).isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
            assertThat(limit.isReadOnly()).isFalse();
            assertThat(describe(admin, BROKER_0).get("data.dir").isReadOnly()).as("a static setting").isTrue();
            assertThat(describe(admin, CLUSTER_DEFAULT)).as("the default entity lists what it sets").containsOnlyKeys("message.max.bytes");
            ConfigEntry topicLimit = describe(admin, new ConfigResource(ConfigResource.Type.TOPIC, TOPIC)).get("max.message.bytes");
            assertThat(topicLimit.source()).as("a topic without an override").isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
            assertThat(topicLimit.synonyms()).extracting(s -> s.name() + "=" + s.value() + "@" + s.source())
                    .containsExactly("message.max.bytes=2048@DYNAMIC_DEFAULT_BROKER_CONFIG", "message.max.bytes=1048588@DEFAULT_CONFIG");

            set(admin, BROKER_0, "message.max.bytes", "8192");
            produce(broker, "k", 4_000);
            ConfigEntry own = describe(admin, BROKER_0).get("message.max.bytes");
            assertThat(own.source()).isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG);
            assertThat(own.synonyms()).extracting(s -> s.value() + "@" + s.source()).containsExactly(
                    "8192@DYNAMIC_BROKER_CONFIG", "2048@DYNAMIC_DEFAULT_BROKER_CONFIG", "1048588@DEFAULT_CONFIG");

            set(admin, CLUSTER_DEFAULT, "min.insync.replicas", "2");
            ExecutionException fewReplicas = assertThrows(ExecutionException.class, () -> produce(broker, "k", 10));
            assertThat(fewReplicas.getCause()).as("one replica, two required").isInstanceOf(NotEnoughReplicasException.class);
            delete(admin, CLUSTER_DEFAULT, "min.insync.replicas");
            produce(broker, "k", 10);

            admin.incrementalAlterConfigs(Map.of(CLUSTER_DEFAULT, List.of(new AlterConfigOp(new ConfigEntry("log.cleanup.policy", "compact"),
                    AlterConfigOp.OpType.APPEND)))).all().get();
            assertThat(describe(admin, BROKER_0).get("log.cleanup.policy").value()).as("appended to the value in force").isEqualTo("delete,compact");
            ExecutionException keyless = assertThrows(ExecutionException.class, () -> produce(broker, null, 10));
            assertThat(keyless.getCause()).as("the topic is compacted now").isInstanceOf(InvalidRecordException.class);
        }
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            Map<String, ConfigEntry> after = describe(admin, BROKER_0);
            assertThat(after.get("message.max.bytes").value()).as("after a restart").isEqualTo("8192");
            assertThat(after.get("log.cleanup.policy").value()).isEqualTo("delete,compact");
            ExecutionException tooLarge = assertThrows(ExecutionException.class, () -> produce(broker, "k", 9_000));
            assertThat(tooLarge.getCause()).as("still enforced after a restart").isInstanceOf(RecordTooLargeException.class);

            delete(admin, BROKER_0, "message.max.bytes");
            delete(admin, CLUSTER_DEFAULT, "message.max.bytes");
            delete(admin, CLUSTER_DEFAULT, "log.cleanup.policy");
            produce(broker, null, 9_000);
            assertThat(describe(admin, BROKER_0).get("message.max.bytes").source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
            assertThat(describe(admin, CLUSTER_DEFAULT)).isEmpty();
        }
    }

    @Test
    void staticUnknownAndBadSettingsAreRefusedByNameAndChangeNothing() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            assertRefused(admin, BROKER_0, "log.flush.policy", "interval", "Cannot update these configs dynamically: [log.flush.policy]");
            assertRefused(admin, CLUSTER_DEFAULT, "log.retention.ms", "1000", "Unknown broker config");
            assertRefused(admin, CLUSTER_DEFAULT, "min.insync.replicas", "0", "min.insync.replicas must be >= 1");
            assertRefused(admin, BROKER_0, "message.max.bytes", "4294967296", "message.max.bytes must be at most 2147483647");
            assertRefused(admin, BROKER_0, "max.connections", "many", "max.connections must be an integer");

            admin.incrementalAlterConfigs(Map.of(CLUSTER_DEFAULT, List.of(new AlterConfigOp(new ConfigEntry("message.max.bytes", "100"),
                    AlterConfigOp.OpType.SET))), new AlterConfigsOptions().validateOnly(true)).all().get();
            assertThat(describe(admin, CLUSTER_DEFAULT)).as("validate-only and refused changes write nothing").isEmpty();
            assertThat(describe(admin, BROKER_0).get("message.max.bytes").source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);

            // the older AlterConfigs replaces all of an entity's dynamic settings
            set(admin, CLUSTER_DEFAULT, "retention.bytes", "1073741824");
            try (RawKafkaConnection raw = new RawKafkaConnection(broker.broker().port())) {
                AlterConfigsRequestData request = new AlterConfigsRequestData();
                request.resources().add(new AlterConfigsRequestData.AlterConfigsResource().setResourceType(ConfigResource.Type.BROKER.id())
                        .setResourceName("").setConfigs(new AlterConfigsRequestData.AlterableConfigCollection(List.of(
                                new AlterConfigsRequestData.AlterableConfig().setName("message.max.bytes").setValue("65536")).iterator())));
                request.resources().add(new AlterConfigsRequestData.AlterConfigsResource().setResourceType(ConfigResource.Type.BROKER.id())
                        .setResourceName("3").setConfigs(new AlterConfigsRequestData.AlterableConfigCollection(List.of(
                                new AlterConfigsRequestData.AlterableConfig().setName("message.max.bytes").setValue("65536")).iterator())));
                AlterConfigsResponseData answer = raw.send(ApiKeys.ALTER_CONFIGS, ApiKeys.ALTER_CONFIGS.latestVersion(), request);
                assertThat(Errors.forCode(answer.responses().get(0).errorCode())).isEqualTo(Errors.NONE);
                assertThat(Errors.forCode(answer.responses().get(1).errorCode())).as("another broker's settings").isEqualTo(Errors.INVALID_REQUEST);
                assertThat(answer.responses().get(1).errorMessage()).contains("Unexpected broker id, expected 0, but received 3");
            }
            Map<String, ConfigEntry> defaults = describe(admin, CLUSTER_DEFAULT);
            assertThat(defaults).containsOnlyKeys("message.max.bytes");
            assertThat(defaults.get("message.max.bytes").value()).isEqualTo("65536");
        }
    }

    @Test
    void aLoweredConnectionLimitRefusesTheNextConnectionAndKeepsTheOpenOnes() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            int port = broker.broker().port();
            try (RawKafkaConnection open = new RawKafkaConnection(port)) {
                assertThat(open.serves()).isTrue();
                set(admin, BROKER_0, "max.connections.per.ip", "1"); // the admin client and this one already hold two
                try (RawKafkaConnection beyond = new RawKafkaConnection(port)) {
                    assertThat(beyond.closedByBroker()).as("a new connection beyond the lowered limit").isTrue();
                }
                assertThat(open.serves()).as("a connection open before the change stays").isTrue();
                delete(admin, BROKER_0, "max.connections.per.ip");
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    try (RawKafkaConnection again = new RawKafkaConnection(port)) {
                        return again.serves();
                    }
                });
            }
        }
    }

    private static void assertRefused(Admin admin, ConfigResource resource, String key, String value, String message) {
        ExecutionException refused = assertThrows(ExecutionException.class, () -> set(admin, resource, key, value));
        assertThat(refused.getCause()).isInstanceOf(InvalidRequestException.class).hasMessageContaining(message);
    }

    private static void set(Admin admin, ConfigResource resource, String key, String value) throws Exception {
        admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(new ConfigEntry(key, value), AlterConfigOp.OpType.SET))))
                .all().get();
    }

    private static void delete(Admin admin, ConfigResource resource, String key) throws Exception {
        admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(new ConfigEntry(key, ""), AlterConfigOp.OpType.DELETE))))
                .all().get();
    }

    private static Map<String, ConfigEntry> describe(Admin admin, ConfigResource resource) throws Exception {
        return admin.describeConfigs(List.of(resource), SYNONYMS).all().get().get(resource).entries().stream()
                .collect(Collectors.toMap(ConfigEntry::name, e -> e));
    }

    private static void produce(TestBroker broker, String key, int bytes) throws Exception {
        Properties p = broker.clientProps();
        p.put("acks", "all");
        p.put("retries", "0");
        p.put("max.request.size", "2000000");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(TOPIC, key, "x".repeat(bytes))).get();
        }
    }
}
