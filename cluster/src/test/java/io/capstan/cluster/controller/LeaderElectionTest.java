package io.capstan.cluster.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.cluster.metadata.ShardState;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class LeaderElectionTest {

    @Test
    void failoverPicksTheFirstLiveInSyncReplicaAndDropsTheOldLeader() {
        ShardState s = new ShardState("t", 0, List.of(1, 2, 3), 1, 4, List.of(1, 2, 3));
        ShardState next = LeaderElection.failover(s, Set.of(2, 3)).orElseThrow();
        assertThat(next.leader()).isEqualTo(2);
        assertThat(next.leaderEpoch()).isEqualTo(5);
        assertThat(next.isr()).containsExactly(2, 3);
        assertThat(LeaderElection.failover(next, Set.of(2, 3))).isEmpty();
    }

    @Test
    void failoverAlsoLeavesOtherDeadBrokersOutOfTheIsr() {
        ShardState s = new ShardState("t", 0, List.of(1, 2, 3), 1, 4, List.of(1, 2, 3));
        ShardState next = LeaderElection.failover(s, Set.of(3)).orElseThrow();
        assertThat(next.leader()).isEqualTo(3);
        assertThat(next.isr()).containsExactly(3);
    }

    @Test
    void aDeadFollowerLeavesTheIsrOfALiveLeaderAtOnceAndNothingElseChanges() {
        ShardState s = new ShardState("t", 0, List.of(1, 2, 3), 1, 4, List.of(1, 2, 3));
        ShardState fenced = LeaderElection.fenceDead(s, Set.of(1, 3)).orElseThrow();
        assertThat(fenced.isr()).containsExactly(1, 3);
        assertThat(fenced.leader()).isEqualTo(1);
        assertThat(fenced.leaderEpoch()).as("the leader keeps its epoch: nothing it wrote is fenced").isEqualTo(4);
        assertThat(LeaderElection.fenceDead(fenced, Set.of(1, 3))).isEmpty();
        assertThat(LeaderElection.fenceDead(s, Set.of(1, 2, 3))).isEmpty();
        // an offline shard keeps its last in-sync replicas, so that one of them can lead again when it returns
        ShardState offline = new ShardState("t", 0, List.of(1, 2, 3), -1, 5, List.of(1, 2));
        assertThat(LeaderElection.fenceDead(offline, Set.of(3))).isEmpty();
        // and a dead leader is failover's business, not this
        assertThat(LeaderElection.fenceDead(s, Set.of(2, 3))).isEmpty();
    }

    @Test
    void noUncleanElection() {
        ShardState s = new ShardState("t", 0, List.of(1, 2, 3), 1, 4, List.of(1));
        ShardState offline = LeaderElection.failover(s, Set.of(2, 3)).orElseThrow();
        assertThat(offline.leader()).isEqualTo(-1);
        assertThat(offline.leaderEpoch()).isEqualTo(5);
        assertThat(LeaderElection.failover(offline, Set.of(2, 3))).isEmpty();
        assertThat(LeaderElection.recover(offline, Set.of(2, 3))).isEmpty();
        ShardState back = LeaderElection.recover(offline, Set.of(1, 2, 3)).orElseThrow();
        assertThat(back.leader()).isEqualTo(1);
        assertThat(back.leaderEpoch()).isEqualTo(6);
    }

    @Test
    void preferredLeaderTakesOverOnlyWhenAliveAndInSync() {
        ShardState s = new ShardState("t", 0, List.of(1, 2, 3), 2, 5, List.of(2, 3));
        assertThat(LeaderElection.preferred(s, Set.of(1, 2, 3))).isEmpty();
        ShardState caughtUp = s.withIsr(List.of(1, 2, 3));
        assertThat(LeaderElection.preferred(caughtUp, Set.of(1, 2, 3))).hasValueSatisfying(n -> {
            assertThat(n.leader()).isEqualTo(1);
            assertThat(n.leaderEpoch()).isEqualTo(6);
        });
    }

    @Property
    void electionsStayInsideTheIsrAndAlwaysMoveTheEpoch(@ForAll("shards") ShardState shard, @ForAll("alive") Set<Integer> alive) {
        for (Optional<ShardState> result : List.of(LeaderElection.failover(shard, alive), LeaderElection.recover(shard, alive),
                LeaderElection.preferred(shard, alive))) {
            result.ifPresent(next -> {
                assertThat(next.leaderEpoch()).isGreaterThan(shard.leaderEpoch());
                assertThat(next.replicas()).isEqualTo(shard.replicas());
                if (next.leader() >= 0) {
                    assertThat(shard.isr()).contains(next.leader());
                    assertThat(alive).contains(next.leader());
                }
                assertThat(shard.isr()).containsAll(next.isr());
            });
        }
        if (shard.leader() >= 0 && alive.contains(shard.leader())) {
            assertThat(LeaderElection.failover(shard, alive)).isEmpty();
        }
    }

    @Provide
    Arbitrary<ShardState> shards() {
        Arbitrary<List<Integer>> replicas = Arbitraries.integers().between(0, 5).set().ofMinSize(1).ofMaxSize(4).map(ArrayList::new);
        return replicas.flatMap(rs -> Combinators.combine(
                        Arbitraries.of(rs).set().ofMinSize(1).ofMaxSize(rs.size()),
                        Arbitraries.integers().between(0, 100),
                        Arbitraries.integers().between(-1, rs.size() - 1))
                .as((isrSet, epoch, leaderIndex) -> {
                    List<Integer> isr = rs.stream().filter(isrSet::contains).toList();
                    int leader = leaderIndex < 0 ? -1 : isr.get(Math.min(leaderIndex, isr.size() - 1));
                    return new ShardState("t", 0, rs, leader, epoch, isr);
                }));
    }

    @Provide
    Arbitrary<Set<Integer>> alive() {
        return Arbitraries.integers().between(0, 5).set().ofMaxSize(6).map(HashSet::new);
    }
}
