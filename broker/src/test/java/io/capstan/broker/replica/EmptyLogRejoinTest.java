package io.capstan.broker.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.cluster.metadata.ShardState;
import java.util.List;
import org.junit.jupiter.api.Test;

class EmptyLogRejoinTest {
    private static ShardState shard(int leader, List<Integer> isr) {
        return new ShardState("t", 0, List.of(1, 2, 3), leader, 7, isr);
    }

    @Test
    void aBrokerOutsideTheIsrChangesNothing() {
        assertThat(EmptyLogRejoin.step(shard(1, List.of(1, 2)), 3)).isEqualTo(new EmptyLogRejoin.Keep());
    }

    @Test
    void aFollowerLeavesTheIsrAndTheLeaderStays() {
        assertThat(EmptyLogRejoin.step(shard(1, List.of(1, 2, 3)), 3))
                .isEqualTo(new EmptyLogRejoin.Leave(new ShardState("t", 0, List.of(1, 2, 3), 1, 7, List.of(1, 2))));
    }

    /** It must not lead an empty log: another in-sync replica takes over in a new epoch, so the old epoch's writes are fenced. */
    @Test
    void aLeaderHandsOverToAnotherInSyncReplica() {
        assertThat(EmptyLogRejoin.step(shard(3, List.of(3, 2)), 3))
                .isEqualTo(new EmptyLogRejoin.Leave(new ShardState("t", 0, List.of(1, 2, 3), 2, 8, List.of(2))));
    }

    @Test
    void theOnlyInSyncReplicaCannotLeaveAndItsRecordsAreLost() {
        assertThat(EmptyLogRejoin.step(shard(3, List.of(3)), 3)).isEqualTo(new EmptyLogRejoin.OnlyCopyLost());
        assertThat(EmptyLogRejoin.step(shard(-1, List.of(3)), 3)).isEqualTo(new EmptyLogRejoin.OnlyCopyLost());
    }
}
