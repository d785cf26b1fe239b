package io.capstan.cluster.topics;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.ShardState;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** New topics are placed by the planner: racks spread, leaders spread, least-loaded brokers first. */
class ClusterTopicsPlacementTest {
    private static final List<BrokerRegistration> SIX_BROKERS_THREE_RACKS = List.of(
            broker(0, "a"), broker(1, "a"), broker(2, "b"), broker(3, "b"), broker(4, "c"), broker(5, "c"));

    private static BrokerRegistration broker(int id, String rack) {
        return new BrokerRegistration(id, "127.0.0.1", 9092 + id, rack, Long.MAX_VALUE);
    }

    private static String rack(int id) {
        return SIX_BROKERS_THREE_RACKS.get(id).rack();
    }

    @Test
    void everyShardHasOneReplicaPerRackAndLeadershipIsSpread() {
        Map<Integer, List<Integer>> placed = ClusterTopics.place("orders", 12, 3, SIX_BROKERS_THREE_RACKS, List.of());
        assertThat(placed).hasSize(12);
        Map<Integer, Integer> leaders = new HashMap<>();
        Map<Integer, Integer> replicas = new HashMap<>();
        for (List<Integer> r : placed.values()) {
            assertThat(r).hasSize(3).doesNotHaveDuplicates();
            Set<String> racks = new HashSet<>();
            r.forEach(b -> racks.add(rack(b)));
            assertThat(racks).as("racks of %s", r).containsExactlyInAnyOrder("a", "b", "c");
            leaders.merge(r.get(0), 1, Integer::sum);
            r.forEach(b -> replicas.merge(b, 1, Integer::sum));
        }
        assertThat(leaders.values()).as("leaders per broker").containsOnly(2);
        assertThat(replicas.values()).as("replicas per broker").containsOnly(6);
    }

    @Test
    void newReplicasGoToTheBrokersWithTheFewestAlready() {
        // brokers 0, 2 and 4 already hold a replica of each of 6 shards; 1, 3 and 5 hold none
        List<ShardState> existing = new java.util.ArrayList<>();
        for (int p = 0; p < 6; p++) {
            existing.add(new ShardState("old", p, List.of(0, 2, 4), 0, 0, List.of(0, 2, 4)));
        }
        Map<Integer, List<Integer>> placed = ClusterTopics.place("new", 2, 3, SIX_BROKERS_THREE_RACKS, existing);
        for (List<Integer> r : placed.values()) {
            assertThat(r).containsExactlyInAnyOrder(1, 3, 5);
        }
    }

    @Test
    void withoutRacksReplicasAreStillDistinctAndSpread() {
        List<BrokerRegistration> noRacks = List.of(broker(0, null), broker(1, null), broker(2, null));
        Map<Integer, List<Integer>> placed = ClusterTopics.place("t", 3, 2, noRacks, List.of());
        Map<Integer, Integer> leaders = new HashMap<>();
        placed.values().forEach(r -> {
            assertThat(r).hasSize(2).doesNotHaveDuplicates();
            leaders.merge(r.get(0), 1, Integer::sum);
        });
        assertThat(leaders.values()).containsOnly(1);
    }
}
