package io.capstan.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DynamicSettingsTest {
    @Test
    void aBrokersOwnValueBeatsTheClusterDefaultWhichBeatsItsPropertiesFile() {
        Map<String, String> started = Map.of("message.max.bytes", "1000", "min.insync.replicas", "2", "retention.ms", "60000");
        BrokerConfig c = DynamicSettings.effective(started, Map.of("message.max.bytes", "2000", "min.insync.replicas", "3"),
                Map.of("message.max.bytes", "3000"));
        assertThat(c.messageMaxBytes()).isEqualTo(3000);
        assertThat(c.replication().minInsyncReplicas()).isEqualTo(3);
        assertThat(c.retentionMs()).isEqualTo(60000);
        assertThat(DynamicSettings.effective(Map.of(), Map.of(), Map.of()).messageMaxBytes()).as("built-in default").isEqualTo(1048588);
    }

    @Test
    void everyDynamicKeyIsABrokerSettingAndTheRestAreNot() {
        List<String> known = BrokerConfig.KEYS.stream().map(BrokerConfig.Key::name).toList();
        assertThat(known).containsAll(DynamicSettings.KEYS);
        assertThat(DynamicSettings.notDynamic(List.of("message.max.bytes", "log.flush.policy", "data.dir")))
                .containsExactly("data.dir", "log.flush.policy");
        assertThat(DynamicSettings.notDynamic(DynamicSettings.KEYS)).isEmpty();
    }

    @Test
    void aLayeredValueIsValidatedAsAPropertiesFileValueIs() {
        assertThatThrownBy(() -> DynamicSettings.effective(Map.of(), Map.of("min.insync.replicas", "0"), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("min.insync.replicas must be >= 1");
        assertThatThrownBy(() -> DynamicSettings.effective(Map.of(), Map.of(), Map.of("message.max.bytes", "4294967296")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("message.max.bytes must be at most 2147483647");
        assertThatThrownBy(() -> DynamicSettings.effective(Map.of(), Map.of("log.cleanup.policy", "archive"), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("cleanup.policy");
        assertThatThrownBy(() -> DynamicSettings.effective(Map.of(), Map.of(), Map.of("log.cleaner.io.max.bytes.per.second", "0")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("log.cleaner.io.max.bytes.per.second must be > 0");
        assertThatThrownBy(() -> DynamicSettings.effective(Map.of(), Map.of(), Map.of("leader.replication.throttled.rate", "-1")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("leader.replication.throttled.rate must be > 0");
        assertThatThrownBy(() -> DynamicSettings.effective(Map.of(), Map.of("replica.alter.log.dirs.io.max.bytes.per.second", "0"), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("replica.alter.log.dirs.io.max.bytes.per.second must be > 0");
        assertThat(DynamicSettings.effective(Map.of(), Map.of(), Map.of("replica.alter.log.dirs.io.max.bytes.per.second", "1048576")))
                .as("kafka-reassign-partitions --throttle sets it on every broker").isNotNull();
    }
}
