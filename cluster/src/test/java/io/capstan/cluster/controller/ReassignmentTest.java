package io.capstan.cluster.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.ShardState;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReassignmentTest {
    static final Set<Integer> BROKERS = Set.of(1, 2, 3, 4, 5);
    static final ShardState ON_123 = new ShardState("t", 0, List.of(1, 2, 3), 1, 7, List.of(1, 2, 3));

    @Test
    void newReplicasJoinFirstThenTheOldOnesLeave() {
        ShardState moving = Reassignment.start(ON_123, List.of(4, 2, 3), BROKERS);
        assertThat(moving.replicas()).containsExactly(4, 2, 3, 1);
        assertThat(moving.addingReplicas()).containsExactly(4);
        assertThat(moving.removingReplicas()).containsExactly(1);
        assertThat(moving.leader()).isEqualTo(1);
        assertThat(moving.leaderEpoch()).as("the leader re-reads its followers").isEqualTo(8);
        assertThat(Reassignment.complete(moving, BROKERS)).as("4 has not caught up").isEmpty();

        ShardState caughtUp = moving.withIsr(List.of(1, 2, 3, 4));
        ShardState done = Reassignment.complete(caughtUp, BROKERS).orElseThrow();
        assertThat(done.replicas()).containsExactly(4, 2, 3);
        assertThat(done.isr()).containsExactly(2, 3, 4);
        assertThat(done.leader()).as("the leaving leader hands over to the first in-sync target replica, in preference order").isEqualTo(4);
        assertThat(done.leaderEpoch()).isEqualTo(9);
        assertThat(done.reassigning()).isFalse();
    }

    @Test
    void aLeaderThatStaysKeepsLeadingAndAReorderNeedsNoCatchUp() {
        ShardState reordered = Reassignment.start(ON_123, List.of(3, 1, 2), BROKERS);
        assertThat(reordered.addingReplicas()).isEmpty();
        assertThat(reordered.removingReplicas()).isEmpty();
        assertThat(reordered.replicas()).containsExactly(3, 1, 2);

        ShardState grow = Reassignment.start(ON_123, List.of(1, 2, 3, 5), BROKERS).withIsr(List.of(1, 2, 3, 5));
        ShardState done = Reassignment.complete(grow, BROKERS).orElseThrow();
        assertThat(done.leader()).isEqualTo(1);
        assertThat(done.replicas()).containsExactly(1, 2, 3, 5);
    }

    @Test
    void cancellingReturnsToTheOriginalReplicas() {
        ShardState moving = Reassignment.start(ON_123, List.of(4, 5), BROKERS);
        ShardState back = Reassignment.cancel(moving, BROKERS);
        assertThat(back.replicas()).containsExactly(1, 2, 3);
        assertThat(back.isr()).containsExactly(1, 2, 3);
        assertThat(back.leader()).isEqualTo(1);
        assertThat(back.reassigning()).isFalse();
        ShardState again = Reassignment.start(moving, List.of(1, 5, 3), BROKERS);
        assertThat(again.addingReplicas()).as("a new target replaces the running one, from the original replicas").containsExactly(5);
        assertThat(again.removingReplicas()).containsExactly(2);
    }

    @Test
    void badTargetsAreRefusedWithTheReason() {
        assertThatThrownBy(() -> Reassignment.start(ON_123, List.of(), BROKERS)).hasMessageContaining("empty");
        assertThatThrownBy(() -> Reassignment.start(ON_123, List.of(1, 1), BROKERS)).hasMessageContaining("repeats");
        assertThatThrownBy(() -> Reassignment.start(ON_123, List.of(1, 9), BROKERS)).hasMessageContaining("broker 9");
    }

    @Test
    void reassignmentStateSurvivesTheStoreEncoding() {
        ShardState moving = Reassignment.start(ON_123, List.of(4, 2, 3), BROKERS);
        assertThat(MetadataCodec.decode(MetadataCodec.encode(moving), ShardState.class)).isEqualTo(moving);
        assertThat(MetadataCodec.decode("{\"topic\":\"t\",\"partition\":0,\"replicas\":[1],\"leader\":1,\"leaderEpoch\":0,\"isr\":[1]}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8), ShardState.class).reassigning())
                .as("state written before reassignments existed still reads").isFalse();
    }
}
