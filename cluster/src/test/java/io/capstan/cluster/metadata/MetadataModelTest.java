package io.capstan.cluster.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetadataModelTest {

    @Test
    void recordsRoundTripThroughJsonAndIgnoreFieldsFromNewerVersions() {
        ShardState s = new ShardState("orders", 2, List.of(1, 2, 3), 2, 7, List.of(2, 3));
        assertThat(MetadataCodec.decode(MetadataCodec.encode(s), ShardState.class)).isEqualTo(s);
        BrokerRegistration b = new BrokerRegistration(1, "127.0.0.2", 9092, "zone-a", 123L);
        assertThat(MetadataCodec.decode(MetadataCodec.encode(b), BrokerRegistration.class)).isEqualTo(b);
        TopicRecord t = new TopicRecord("orders", "abc", 3, 3, Map.of("retention.ms", "1000"));
        assertThat(MetadataCodec.decode(MetadataCodec.encode(t), TopicRecord.class)).isEqualTo(t);
        byte[] newer = "{\"id\":4,\"host\":\"h\",\"port\":1,\"rack\":null,\"leaseExpiresAtMs\":5,\"zone\":\"future field\"}"
                .getBytes(StandardCharsets.UTF_8);
        assertThat(MetadataCodec.decode(newer, BrokerRegistration.class).id()).isEqualTo(4);
    }

    @Test
    void aLeaderChangeBumpsTheEpochAndTheLeaderMustBeInSync() {
        ShardState s = new ShardState("t", 0, List.of(1, 2, 3), 1, 4, List.of(1, 2, 3));
        ShardState failedOver = s.electLeader(2);
        assertThat(failedOver.leader()).isEqualTo(2);
        assertThat(failedOver.leaderEpoch()).isEqualTo(5);
        assertThat(failedOver.isr()).containsExactly(2, 3);
        assertThatThrownBy(() -> s.withIsr(List.of(2, 3))).hasMessageContaining("not in its ISR");
        assertThatThrownBy(() -> failedOver.electLeader(1)).hasMessageContaining("not in the ISR");
        assertThatThrownBy(() -> new ShardState("t", 0, List.of(1, 2), -1, 0, List.of(3))).hasMessageContaining("within replicas");
    }

    @Test
    void leasesExpire() {
        BrokerRegistration b = new BrokerRegistration(1, "h", 1, null, 1000);
        assertThat(b.alive(999)).isTrue();
        assertThat(b.alive(1000)).isFalse();
    }
}
