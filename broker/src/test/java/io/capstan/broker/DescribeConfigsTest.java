package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.config.BrokerConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DescribeConfigs as Kafka's tools read it: each topic setting's source (override, the broker's properties, the
 * default) with the synonyms behind it, its type and documentation; every broker setting, read-only unless it can
 * change live, secrets hidden.
 */
class DescribeConfigsTest {
    @TempDir
    Path dir;

    @Test
    void sourcesSynonymsTypesAndDocumentationAreKafkas() throws Exception {
        try (TestBroker broker = new TestBroker(dir, Map.of("retention.ms", "3600000"));
             Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("described", 1, (short) 1).configs(Map.of("max.message.bytes", "2048")))).all().get();
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "described");
            DescribeConfigsOptions all = new DescribeConfigsOptions().includeSynonyms(true).includeDocumentation(true);
            Map<String, ConfigEntry> entries = admin.describeConfigs(List.of(topic), all).all().get().get(topic).entries().stream()
                    .collect(Collectors.toMap(ConfigEntry::name, e -> e));

            ConfigEntry limit = entries.get("max.message.bytes");
            assertThat(limit.value()).isEqualTo("2048");
            assertThat(limit.source()).isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
            assertThat(limit.synonyms()).extracting(s -> s.name() + "=" + s.value() + "@" + s.source())
                    .containsExactly("max.message.bytes=2048@DYNAMIC_TOPIC_CONFIG", "message.max.bytes=1048588@DEFAULT_CONFIG");
            assertThat(limit.type()).isEqualTo(ConfigEntry.ConfigType.INT);
            assertThat(limit.documentation()).isNotBlank();
            assertThat(limit.isReadOnly()).isFalse();

            ConfigEntry retention = entries.get("retention.ms");
            assertThat(retention.value()).as("from the broker's properties").isEqualTo("3600000");
            assertThat(retention.source()).isEqualTo(ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG);
            assertThat(retention.synonyms()).extracting(s -> s.name() + "=" + s.value() + "@" + s.source())
                    .containsExactly("retention.ms=3600000@STATIC_BROKER_CONFIG", "retention.ms=604800000@DEFAULT_CONFIG");

            ConfigEntry policy = entries.get("cleanup.policy");
            assertThat(policy.value()).isEqualTo("delete");
            assertThat(policy.source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
            assertThat(policy.type()).isEqualTo(ConfigEntry.ConfigType.LIST);

            ConfigResource self = new ConfigResource(ConfigResource.Type.BROKER, "0");
            Map<String, ConfigEntry> brokerEntries = admin.describeConfigs(List.of(self), all).all().get().get(self).entries().stream()
                    .collect(Collectors.toMap(ConfigEntry::name, e -> e));
            assertThat(brokerEntries).as("every setting, set or not").hasSize(BrokerConfig.KEYS.size());
            assertThat(brokerEntries.values()).filteredOn(e -> !e.isReadOnly()).extracting(ConfigEntry::name)
                    .as("only the settings that can change live").containsExactlyInAnyOrderElementsOf(io.capstan.config.DynamicSettings.KEYS);
            assertThat(brokerEntries.get("retention.ms").source()).isEqualTo(ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG);
            assertThat(brokerEntries.get("max.partitions").source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
            assertThat(brokerEntries.get("max.partitions").value()).isEqualTo("50000");
            assertThat(brokerEntries.get("max.partitions").documentation()).contains("POLICY_VIOLATION");
            ConfigEntry secret = brokerEntries.get("ssl.keystore.password");
            assertThat(secret.isSensitive()).isTrue();
            assertThat(secret.value()).isNull();
        }
    }
}
