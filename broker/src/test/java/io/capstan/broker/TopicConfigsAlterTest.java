package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Topic configs changed with Kafka's Admin client (IncrementalAlterConfigs) and the older AlterConfigs: the broker
 * enforces the new value at once, DescribeConfigs shows it as a topic override, bad values and static broker settings
 * are refused with Kafka's errors, and the change survives a restart (dynamic broker settings: DynamicBrokerConfigsTest).
 */
class TopicConfigsAlterTest {
    private static final String TOPIC = "configured";
    private static final ConfigResource RESOURCE = new ConfigResource(ConfigResource.Type.TOPIC, TOPIC);

    @TempDir
    Path dir;

    @Test
    void aTopicsConfigsChangeLiveAndAreEnforcedDescribedAndKeptOverARestart() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get();
            produce(broker, 4_000); // the broker default (1 MiB) takes it

            alter(admin, new AlterConfigOp(new ConfigEntry("max.message.bytes", "2048"), AlterConfigOp.OpType.SET),
                    new AlterConfigOp(new ConfigEntry("retention.ms", "86400000"), AlterConfigOp.OpType.SET));
            ConfigEntry limit = describe(admin).get("max.message.bytes");
            assertThat(limit.value()).isEqualTo("2048");
            assertThat(limit.source()).isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
            ExecutionException tooLarge = assertThrows(ExecutionException.class, () -> produce(broker, 4_000));
            assertThat(tooLarge.getCause()).isInstanceOf(RecordTooLargeException.class);
            produce(broker, 1_000);

            admin.incrementalAlterConfigs(Map.of(RESOURCE, List.of(new AlterConfigOp(new ConfigEntry("retention.ms", "1000"), AlterConfigOp.OpType.SET))),
                    new AlterConfigsOptions().validateOnly(true)).all().get();
            assertThat(describe(admin).get("retention.ms").value()).as("validate-only changes nothing").isEqualTo("86400000");

            ExecutionException overflow = assertThrows(ExecutionException.class, () ->
                    alter(admin, new AlterConfigOp(new ConfigEntry("max.message.bytes", "4294967296"), AlterConfigOp.OpType.SET)));
            assertThat(overflow.getCause()).isInstanceOf(InvalidConfigurationException.class).hasMessageContaining("max.message.bytes");
            ExecutionException badPolicy = assertThrows(ExecutionException.class, () ->
                    alter(admin, new AlterConfigOp(new ConfigEntry("cleanup.policy", "archive"), AlterConfigOp.OpType.APPEND)));
            assertThat(badPolicy.getCause()).isInstanceOf(InvalidConfigurationException.class).hasMessageContaining("cleanup.policy");
            assertThat(describe(admin).get("max.message.bytes").value()).as("a refused change writes nothing").isEqualTo("2048");

            ExecutionException missing = assertThrows(ExecutionException.class, () -> admin.incrementalAlterConfigs(Map.of(
                    new ConfigResource(ConfigResource.Type.TOPIC, "absent"),
                    List.of(new AlterConfigOp(new ConfigEntry("retention.ms", "1"), AlterConfigOp.OpType.SET)))).all().get());
            assertThat(missing.getCause()).isInstanceOf(UnknownTopicOrPartitionException.class);

            ExecutionException brokerSetting = assertThrows(ExecutionException.class, () -> admin.incrementalAlterConfigs(Map.of(
                    new ConfigResource(ConfigResource.Type.BROKER, "0"),
                    List.of(new AlterConfigOp(new ConfigEntry("log.flush.interval.ms", "1"), AlterConfigOp.OpType.SET)))).all().get());
            assertThat(brokerSetting.getCause()).isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("Cannot update these configs dynamically: [log.flush.interval.ms]").hasMessageContaining("restart");
        }
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            assertThat(describe(admin).get("max.message.bytes").value()).as("after a restart").isEqualTo("2048");
            ExecutionException tooLarge = assertThrows(ExecutionException.class, () -> produce(broker, 4_000));
            assertThat(tooLarge.getCause()).as("still enforced after a restart").isInstanceOf(RecordTooLargeException.class);

            alter(admin, new AlterConfigOp(new ConfigEntry("max.message.bytes", ""), AlterConfigOp.OpType.DELETE));
            ConfigEntry back = describe(admin).get("max.message.bytes");
            assertThat(back.source()).as("deleted: the broker default again").isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
            produce(broker, 4_000);
            assertThat(describe(admin).get("retention.ms").value()).as("the other override stays").isEqualTo("86400000");
        }
    }

    @Test
    void theOlderAlterConfigsReplacesAllOverridesAndRefusesDuplicates() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1).configs(Map.of("retention.ms", "86400000")))).all().get();
            try (RawKafkaConnection raw = new RawKafkaConnection(broker.broker().port())) {
                short version = ApiKeys.ALTER_CONFIGS.latestVersion();
                AlterConfigsResponseData replaced = raw.send(ApiKeys.ALTER_CONFIGS, version, new AlterConfigsRequestData().setResources(
                        new AlterConfigsRequestData.AlterConfigsResourceCollection(List.of(resource(TOPIC, "retention.bytes", "1048576")).iterator())));
                assertThat(replaced.responses()).singleElement().satisfies(r -> assertThat(Errors.forCode(r.errorCode())).isEqualTo(Errors.NONE));
                Map<String, ConfigEntry> now = describe(admin);
                assertThat(now.get("retention.bytes").value()).isEqualTo("1048576");
                assertThat(now.get("retention.ms").source()).as("left out: back to its default").isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);

                AlterConfigsRequestData twice = new AlterConfigsRequestData();
                twice.resources().add(resource(TOPIC, "retention.bytes", "1"));
                twice.resources().add(resource(TOPIC, "retention.bytes", "2").setResourceName(TOPIC + "-other"));
                AlterConfigsResponseData answer = raw.send(ApiKeys.ALTER_CONFIGS, version, twice);
                assertThat(answer.responses()).hasSize(2);
                assertThat(Errors.forCode(answer.responses().get(0).errorCode())).isEqualTo(Errors.NONE);
                assertThat(Errors.forCode(answer.responses().get(1).errorCode())).isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION);
            }
        }
    }

    private static AlterConfigsRequestData.AlterConfigsResource resource(String topic, String key, String value) {
        AlterConfigsRequestData.AlterConfigsResource r = new AlterConfigsRequestData.AlterConfigsResource()
                .setResourceType(ConfigResource.Type.TOPIC.id()).setResourceName(topic);
        r.configs().add(new AlterConfigsRequestData.AlterableConfig().setName(key).setValue(value));
        return r;
    }

    private static void alter(Admin admin, AlterConfigOp... ops) throws Exception {
        admin.incrementalAlterConfigs(Map.of(RESOURCE, List.of(ops))).all().get();
    }

    private static Map<String, ConfigEntry> describe(Admin admin) throws Exception {
        Config config = admin.describeConfigs(List.of(RESOURCE)).all().get().get(RESOURCE);
        Collection<ConfigEntry> entries = config.entries();
        return entries.stream().collect(java.util.stream.Collectors.toMap(ConfigEntry::name, e -> e));
    }

    private static void produce(TestBroker broker, int bytes) throws Exception {
        Properties p = broker.clientProps();
        p.put("acks", "all");
        p.put("retries", "0");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(TOPIC, "x".repeat(bytes))).get();
        }
    }
}
