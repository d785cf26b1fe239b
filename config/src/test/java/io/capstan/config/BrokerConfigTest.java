package io.capstan.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class BrokerConfigTest {
    @Test
    void theRackComesFromANodeLabelOnlyOnKubernetes() {
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("broker.rack.node.label", "topology.kubernetes.io/zone")))
                .hasMessageContaining("broker.rack.node.label needs metadata.store=kubernetes");
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("metadata.store", "kubernetes", "metadata.namespace", "shop",
                "broker.rack", "a", "broker.rack.node.label", "topology.kubernetes.io/zone")))
                .hasMessageContaining("not both");
        BrokerConfig ok = BrokerConfig.from(Map.of("metadata.store", "kubernetes", "metadata.namespace", "shop",
                "broker.rack.node.label", "topology.kubernetes.io/zone"));
        assertThat(ok.replication().rackNodeLabel()).isEqualTo("topology.kubernetes.io/zone");
    }

    @Test
    void theHeartbeatIsAtMostHalfTheLease() {
        assertThat(BrokerConfig.defaults().replication().heartbeatMs()).isEqualTo(1000);
        assertThat(BrokerConfig.from(Map.of("broker.lease.ms", "2000")).replication().heartbeatMs()).isEqualTo(1000);
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("broker.lease.ms", "1500")))
                .hasMessageContaining("broker.heartbeat.interval.ms must be 50..750 (at most half of broker.lease.ms=1500");
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("broker.heartbeat.interval.ms", "10")))
                .hasMessageContaining("broker.heartbeat.interval.ms must be 50..3000");
    }
}
