package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.config.BrokerConfig;
import io.capstan.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokerSettingsTest {
    @TempDir
    Path dir;

    @Test
    void flagsBeatEnvironmentWhichBeatsTheFileWhichBeatsDefaults() throws Exception {
        Path file = dir.resolve("broker.properties");
        Files.writeString(file, "listener.port=1111\nlog.flush.policy=interval\nnode.id=7\n");
        Map<String, String> env = Map.of("CAPSTAN_LISTENER_PORT", "2222", "CAPSTAN_NODE_ID", "8", "UNRELATED", "x");
        Map<String, String> flags = Map.of("listener.port", "3333");
        BrokerConfig c = BrokerConfig.from(BrokerSettings.resolve(file, env, flags));
        assertThat(c.port()).isEqualTo(3333);
        assertThat(c.nodeId()).isEqualTo(8);
        assertThat(c.flushPolicy()).isEqualTo(BrokerConfig.FlushPolicy.INTERVAL);
        assertThat(c.messageMaxBytes()).isEqualTo(1048588);
    }

    @Test
    void badSettingsAreRefusedByName() {
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("log.flush.polcy", "always")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("log.flush.polcy").hasMessageContaining("docs/configuration.md");
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("log.flush.policy", "sometimes")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("'always' or 'interval'");
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("listener.port", "ninety")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("listener.port must be an integer");
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("listener.port", "70000")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("listener.port");
        assertThatThrownBy(() -> BrokerSettings.resolve(dir.resolve("missing.properties"), Map.of(), Map.of()))
                .hasMessageContaining("cannot read config file");
    }

    @Test
    void configurationPageMatchesTheCode() throws Exception {
        String page = Files.readString(Path.of("..", "docs", "configuration.md"));
        assertThat(page).as("docs/configuration.md is stale: paste the output of 'bin/capstan broker --print-config'")
                .contains(ConfigReference.markdownTable());
    }
}
