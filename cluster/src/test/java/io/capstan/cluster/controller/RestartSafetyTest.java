package io.capstan.cluster.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.cluster.metadata.ShardState;
import java.util.List;
import org.junit.jupiter.api.Test;

class RestartSafetyTest {
    static final ShardState HEALTHY = new ShardState("orders", 0, List.of(1, 2, 3), 1, 1, List.of(1, 2, 3));

    @Test
    void safeWhenEveryShardKeepsMinInsyncWithoutTheBroker() {
        RestartSafety.Verdict v = RestartSafety.check(2, List.of(HEALTHY), 2);
        assertThat(v.safe()).isTrue();
        assertThat(v.reasons()).isEmpty();
    }

    @Test
    void unsafeWhenAShardWouldDropBelowMinInsync() {
        RestartSafety.Verdict v = RestartSafety.check(2, List.of(HEALTHY), 3);
        assertThat(v.safe()).isFalse();
        assertThat(v.reasons()).containsExactly("orders-0 would drop to 2 in-sync replica(s), below min.insync.replicas=3");
    }

    @Test
    void unsafeWhileAnythingIsUnderReplicatedEvenOnOtherBrokers() {
        ShardState lagging = new ShardState("orders", 1, List.of(3, 4, 5), 3, 1, List.of(3, 4));
        RestartSafety.Verdict v = RestartSafety.check(1, List.of(HEALTHY, lagging), 2);
        assertThat(v.safe()).isFalse();
        assertThat(v.reasons()).containsExactly("orders-1 is under-replicated (in sync [3, 4] of [3, 4, 5])");
    }

    @Test
    void brokersNotHostingAShardAreNotBlockedByIt() {
        assertThat(RestartSafety.check(9, List.of(HEALTHY), 3).safe()).isTrue();
    }
}
