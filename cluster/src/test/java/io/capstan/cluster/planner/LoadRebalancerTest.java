package io.capstan.cluster.planner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.cluster.planner.AssignmentPlanner.Broker;
import io.capstan.cluster.planner.AssignmentPlanner.ShardId;
import io.capstan.cluster.planner.LoadRebalancer.Kind;
import io.capstan.cluster.planner.LoadRebalancer.Limits;
import io.capstan.cluster.planner.LoadRebalancer.Move;
import io.capstan.cluster.planner.LoadRebalancer.Proposal;
import io.capstan.cluster.planner.LoadRebalancer.ShardLoad;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** What a rebalance proposal promises, for any brokers, racks, valid assignment and observed load. */
class LoadRebalancerTest {

    record Case(List<Broker> brokers, Map<ShardId, List<Integer>> current, Map<ShardId, ShardLoad> loads) {}

    /** A valid but arbitrary assignment (distinct live brokers, leader first) with skewed loads: a few hot shards. */
    static Case generate(int brokers, int racks, int shards, int maxFactor, long seed) {
        Random random = new Random(seed);
        List<Broker> bs = new ArrayList<>();
        for (int i = 0; i < brokers; i++) {
            bs.add(new Broker(i, "rack-" + random.nextInt(racks)));
        }
        Map<ShardId, List<Integer>> current = new TreeMap<>();
        Map<ShardId, ShardLoad> loads = new HashMap<>();
        List<Integer> ids = new ArrayList<>();
        bs.forEach(b -> ids.add(b.id()));
        for (int s = 0; s < shards; s++) {
            ShardId id = new ShardId("t" + (s % 3), s);
            List<Integer> pool = new ArrayList<>(ids);
            // skew: the low ids are picked far more often
            pool.sort((a, b) -> Double.compare(a * random.nextDouble(), b * random.nextDouble()));
            int factor = Math.min(1 + random.nextInt(maxFactor), brokers);
            current.put(id, List.copyOf(pool.subList(0, factor)));
            double hot = random.nextInt(5) == 0 ? 20 : 1;
            loads.put(id, new ShardLoad(hot * random.nextInt(1_000_000), hot * random.nextInt(2_000_000)));
        }
        return new Case(bs, current, loads);
    }

    static Set<String> racksOf(List<Integer> replicas, List<Broker> brokers) {
        return AssignmentPlannerTest.racksOf(replicas, brokers);
    }

    static double sumOfSquares(Map<Integer, Double> load) {
        return load.values().stream().mapToDouble(v -> v * v).sum();
    }

    static Set<Integer> ids(List<Broker> brokers) {
        return brokers.stream().map(Broker::id).collect(Collectors.toSet());
    }

    @Property
    void replicaCountsDistinctBrokersAndRackSpreadAreKept(@ForAll @IntRange(min = 1, max = 7) int brokers,
            @ForAll @IntRange(min = 1, max = 3) int racks, @ForAll @IntRange(min = 1, max = 30) int shards,
            @ForAll @IntRange(min = 1, max = 3) int maxFactor, @ForAll long seed) {
        Case c = generate(brokers, racks, shards, maxFactor, seed);
        Proposal p = LoadRebalancer.propose(c.brokers(), c.current(), c.loads(), Limits.DEFAULT);
        assertThat(p.assignment().keySet()).isEqualTo(c.current().keySet());
        p.assignment().forEach((shard, replicas) -> {
            List<Integer> was = c.current().get(shard);
            assertThat(replicas).as(shard + " replica count").hasSameSizeAs(was).doesNotHaveDuplicates();
            assertThat(replicas).allMatch(r -> r >= 0 && r < brokers);
            assertThat(racksOf(replicas, c.brokers()).size()).as("racks of " + shard).isGreaterThanOrEqualTo(racksOf(was, c.brokers()).size());
        });
        assertThat(p.moves()).hasSizeLessThanOrEqualTo(Limits.DEFAULT.maxMoves());
    }

    @Property
    void everyMoveIsValidWhereItIsMadeAndLowersTheSpread(@ForAll @IntRange(min = 1, max = 7) int brokers,
            @ForAll @IntRange(min = 1, max = 3) int racks, @ForAll @IntRange(min = 1, max = 30) int shards,
            @ForAll @IntRange(min = 1, max = 3) int maxFactor, @ForAll boolean noThresholds, @ForAll long seed) {
        Case c = generate(brokers, racks, shards, maxFactor, seed);
        // without thresholds only the strict gain of each move stops the proposal
        Proposal p = LoadRebalancer.propose(c.brokers(), c.current(), c.loads(), noThresholds ? new Limits(50, 0, 0) : Limits.DEFAULT);
        Map<ShardId, List<Integer>> replay = new TreeMap<>();
        c.current().forEach((k, v) -> replay.put(k, new ArrayList<>(v)));
        double spread = sumOfSquares(LoadRebalancer.loads(ids(c.brokers()), replay, c.loads()));
        assertThat(spread).isCloseTo(sumOfSquares(p.before().load()), org.assertj.core.data.Percentage.withPercentage(1e-6));
        Set<String> arrived = new HashSet<>();
        for (Move m : p.moves()) {
            List<Integer> replicas = replay.get(m.shard());
            if (m.kind() == Kind.LEADER) {
                assertThat(replicas.get(0)).as("a leadership transfer starts at the leader: " + m).isEqualTo(m.from());
                assertThat(replicas).as("and goes to one of its replicas: " + m).contains(m.to());
                replicas.remove(Integer.valueOf(m.to()));
                replicas.add(0, m.to());
            } else {
                assertThat(replicas).as("a replica moves from a broker holding it: " + m).contains(m.from()).doesNotContain(m.to());
                assertThat(arrived).as("no replica is moved twice: " + m).doesNotContain(m.shard() + "@" + m.from());
                replicas.set(replicas.indexOf(m.from()), m.to());
                arrived.add(m.shard() + "@" + m.to());
            }
            double next = sumOfSquares(LoadRebalancer.loads(ids(c.brokers()), replay, c.loads()));
            assertThat(next).as("spread after " + m).isLessThan(spread);
            spread = next;
        }
        assertThat(replay).as("the moves lead to the proposed assignment").isEqualTo(p.assignment());
        assertThat(p.after().maxOverMean()).isLessThanOrEqualTo(p.before().maxOverMean() * (1 + 1e-9));
    }

    @Property
    void proposingAgainOnTheResultConvergesToNoMoves(@ForAll @IntRange(min = 1, max = 7) int brokers,
            @ForAll @IntRange(min = 1, max = 3) int racks, @ForAll @IntRange(min = 1, max = 30) int shards,
            @ForAll @IntRange(min = 1, max = 3) int maxFactor, @ForAll long seed) {
        Case c = generate(brokers, racks, shards, maxFactor, seed);
        Map<ShardId, List<Integer>> assignment = c.current();
        Limits limits = new Limits(10, 0.10, 0.01);
        double initial = sumOfSquares(LoadRebalancer.loads(ids(c.brokers()), c.current(), c.loads()));
        long moves = 0;
        while (true) {
            Proposal p = LoadRebalancer.propose(c.brokers(), assignment, c.loads(), limits);
            if (p.moves().isEmpty()) {
                assertThat(p.assignment()).isEqualTo(assignment);
                return;
            }
            // each move gains at least minGain * mean^2 and the mean never changes (no replica is added or dropped), so
            // the moves of all rounds together are bounded
            double mean = p.before().mean();
            assertThat(p.after().mean()).isCloseTo(mean, org.assertj.core.data.Percentage.withPercentage(1e-6));
            moves += p.moves().size();
            assertThat((double) moves).as("moves so far, bounded by the spread they remove").isLessThanOrEqualTo(initial / (limits.minGain() * mean * mean));
            assignment = p.assignment();
        }
    }

    @Property
    void theSameInputGivesTheSameProposal(@ForAll @IntRange(min = 1, max = 7) int brokers, @ForAll @IntRange(min = 1, max = 30) int shards,
            @ForAll long seed) {
        Case c = generate(brokers, 2, shards, 3, seed);
        Map<ShardId, List<Integer>> shuffled = new HashMap<>(c.current());
        assertThat(LoadRebalancer.propose(c.brokers(), shuffled, c.loads(), Limits.DEFAULT))
                .isEqualTo(LoadRebalancer.propose(c.brokers(), c.current(), c.loads(), Limits.DEFAULT));
    }

    @Test
    void aBrokerLeadingEveryShardHandsLeadershipOverWithoutMovingData() {
        List<Broker> brokers = List.of(new Broker(0, "a"), new Broker(1, "b"), new Broker(2, "c"));
        Map<ShardId, List<Integer>> current = new TreeMap<>();
        Map<ShardId, ShardLoad> loads = new HashMap<>();
        for (int p = 0; p < 6; p++) {
            current.put(new ShardId("orders", p), List.of(0, 1, 2));
            loads.put(new ShardId("orders", p), new ShardLoad(1_000_000, 2_000_000));
        }
        Proposal proposal = LoadRebalancer.propose(brokers, current, loads, Limits.DEFAULT);
        assertThat(proposal.before().maxOverMean()).isGreaterThan(1.5);
        assertThat(proposal.moves()).isNotEmpty().allMatch(m -> m.kind() == Kind.LEADER);
        assertThat(proposal.after().maxOverMean()).isLessThanOrEqualTo(1 + Limits.DEFAULT.tolerance());
        Map<Integer, Long> leaders = proposal.assignment().values().stream().collect(Collectors.groupingBy(r -> r.get(0), Collectors.counting()));
        assertThat(leaders).containsEntry(0, 2L).containsEntry(1, 2L).containsEntry(2, 2L);
    }

    @Test
    void anEmptyNewBrokerReceivesReplicasOnItsRackOnly() {
        List<Broker> brokers = List.of(new Broker(0, "a"), new Broker(1, "b"), new Broker(2, "a"), new Broker(3, "b"));
        Map<ShardId, List<Integer>> current = new TreeMap<>();
        Map<ShardId, ShardLoad> loads = new HashMap<>();
        for (int p = 0; p < 8; p++) {
            // brokers 2 and 3 hold nothing yet (just added); each shard is on racks a and b
            current.put(new ShardId("events", p), p % 2 == 0 ? List.of(0, 1) : List.of(1, 0));
            loads.put(new ShardId("events", p), new ShardLoad(500_000, 500_000));
        }
        Proposal proposal = LoadRebalancer.propose(brokers, current, loads, Limits.DEFAULT);
        assertThat(proposal.moves()).anyMatch(m -> m.kind() == Kind.REPLICA && (m.to() == 2 || m.to() == 3));
        assertThat(proposal.after().maxOverMean()).isLessThanOrEqualTo(1 + Limits.DEFAULT.tolerance());
        proposal.assignment().values().forEach(r -> assertThat(racksOf(r, brokers)).containsExactlyInAnyOrder("a", "b"));
    }

    @Test
    void anEvenClusterOrOneWithoutTrafficIsLeftAlone() {
        List<Broker> brokers = List.of(new Broker(0, null), new Broker(1, null));
        Map<ShardId, List<Integer>> current = Map.of(new ShardId("a", 0), List.of(0, 1), new ShardId("a", 1), List.of(1, 0));
        assertThat(LoadRebalancer.propose(brokers, current, Map.of(new ShardId("a", 0), new ShardLoad(5, 5), new ShardId("a", 1),
                new ShardLoad(5, 5)), Limits.DEFAULT).moves()).isEmpty();
        assertThat(LoadRebalancer.propose(brokers, current, Map.of(), Limits.DEFAULT).moves()).isEmpty();
        assertThat(LoadRebalancer.propose(brokers, current, Map.of(new ShardId("a", 0), new ShardLoad(9, 9)),
                new Limits(0, 0, 0)).moves()).as("maxMoves 0").isEmpty();
    }

    @Test
    void anAssignmentNamingAnUnknownBrokerOrABrokerTwiceOrANegativeLoadIsRefused() {
        List<Broker> brokers = List.of(new Broker(0, null), new Broker(1, null));
        assertThatThrownBy(() -> LoadRebalancer.propose(brokers, Map.of(new ShardId("a", 0), List.of(0, 7)), Map.of(), Limits.DEFAULT))
                .hasMessageContaining("broker 7");
        assertThatThrownBy(() -> LoadRebalancer.propose(brokers, Map.of(new ShardId("a", 0), List.of(1, 1)), Map.of(), Limits.DEFAULT))
                .hasMessageContaining("twice");
        assertThatThrownBy(() -> new ShardLoad(-1, 0)).hasMessageContaining("non-negative");
        assertThatThrownBy(() -> new ShardLoad(Double.NaN, 0)).hasMessageContaining("non-negative");
        assertThatThrownBy(() -> new Limits(-1, 0, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
