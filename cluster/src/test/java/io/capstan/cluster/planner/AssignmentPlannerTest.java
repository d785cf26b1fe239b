package io.capstan.cluster.planner;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.cluster.planner.AssignmentPlanner.Broker;
import io.capstan.cluster.planner.AssignmentPlanner.ShardId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** What the planner promises, for any brokers, racks, shards, factors and (possibly broken) current assignment. */
class AssignmentPlannerTest {

    record Case(List<Broker> brokers, Map<ShardId, List<Integer>> current, Map<ShardId, Integer> factors) {}

    static Case generate(int brokers, int racks, int shards, int maxFactor, long seed) {
        Random random = new Random(seed);
        List<Broker> bs = new ArrayList<>();
        for (int i = 0; i < brokers; i++) {
            bs.add(new Broker(i, "rack-" + random.nextInt(racks)));
        }
        Map<ShardId, List<Integer>> current = new HashMap<>();
        Map<ShardId, Integer> factors = new HashMap<>();
        for (int s = 0; s < shards; s++) {
            ShardId id = new ShardId("t" + (s % 3), s);
            factors.put(id, 1 + random.nextInt(maxFactor));
            List<Integer> replicas = new ArrayList<>();
            int n = random.nextInt(4);
            for (int r = 0; r < n; r++) {
                replicas.add(random.nextInt(brokers + 2)); // some brokers no longer exist, some repeat
            }
            current.put(id, replicas);
        }
        return new Case(bs, current, factors);
    }

    static Set<String> racksOf(List<Integer> replicas, List<Broker> brokers) {
        Set<String> racks = new HashSet<>();
        for (int r : replicas) {
            racks.add(brokers.stream().filter(b -> b.id() == r).findFirst().orElseThrow().rack());
        }
        return racks;
    }

    @Property
    void everyShardGetsItsFactorOfDistinctLiveBrokersSpreadOverRacks(@ForAll @IntRange(min = 1, max = 7) int brokers,
            @ForAll @IntRange(min = 1, max = 3) int racks, @ForAll @IntRange(min = 1, max = 24) int shards,
            @ForAll @IntRange(min = 1, max = 3) int maxFactor, @ForAll long seed) {
        Case c = generate(brokers, racks, shards, maxFactor, seed);
        Map<ShardId, List<Integer>> plan = AssignmentPlanner.plan(c.brokers(), c.current(), c.factors());
        Set<String> allRacks = racksOf(c.brokers().stream().map(Broker::id).toList(), c.brokers());
        assertThat(plan.keySet()).isEqualTo(c.factors().keySet());
        plan.forEach((shard, replicas) -> {
            int want = Math.min(c.factors().get(shard), brokers);
            assertThat(replicas).hasSize(want).doesNotHaveDuplicates();
            assertThat(replicas).allMatch(r -> r >= 0 && r < brokers);
            assertThat(racksOf(replicas, c.brokers())).as("rack spread of " + shard).hasSize(Math.min(want, allRacks.size()));
        });
    }

    @Property
    void replicasAndLeadersAreBalancedWhenRacksDoNotConstrain(@ForAll @IntRange(min = 1, max = 7) int brokers,
            @ForAll @IntRange(min = 1, max = 30) int shards, @ForAll @IntRange(min = 1, max = 3) int factor, @ForAll long seed) {
        Case c = generate(brokers, 1, shards, 1, seed);
        Map<ShardId, Integer> factors = new HashMap<>();
        c.factors().keySet().forEach(s -> factors.put(s, factor));
        Map<ShardId, List<Integer>> plan = AssignmentPlanner.plan(c.brokers(), c.current(), factors);
        Map<Integer, Integer> load = new HashMap<>();
        Map<Integer, Integer> leads = new HashMap<>();
        for (int b = 0; b < brokers; b++) {
            load.put(b, 0);
            leads.put(b, 0);
        }
        plan.values().forEach(replicas -> {
            replicas.forEach(r -> load.merge(r, 1, Integer::sum));
            leads.merge(replicas.get(0), 1, Integer::sum);
        });
        assertThat(Collections.max(load.values()) - Collections.min(load.values())).as("replica load " + load).isLessThanOrEqualTo(1);
        int leaderCeil = (shards + brokers - 1) / brokers;
        if (factor >= brokers) {
            assertThat(Collections.max(leads.values())).as("leaders " + leads).isLessThanOrEqualTo(leaderCeil);
        }
    }

    @Property
    void planningIsDeterministicAndAStablePlanStaysPut(@ForAll @IntRange(min = 1, max = 7) int brokers,
            @ForAll @IntRange(min = 1, max = 3) int racks, @ForAll @IntRange(min = 1, max = 24) int shards,
            @ForAll @IntRange(min = 1, max = 3) int maxFactor, @ForAll long seed) {
        Case c = generate(brokers, racks, shards, maxFactor, seed);
        Map<ShardId, List<Integer>> plan = AssignmentPlanner.plan(c.brokers(), c.current(), c.factors());
        List<Broker> shuffled = new ArrayList<>(c.brokers());
        Collections.shuffle(shuffled, new Random(seed + 1));
        assertThat(AssignmentPlanner.plan(shuffled, new HashMap<>(c.current()), new HashMap<>(c.factors()))).isEqualTo(plan);
        assertThat(AssignmentPlanner.plan(c.brokers(), plan, c.factors())).as("replanning a plan moves nothing").isEqualTo(plan);
    }

    @Property
    void scalingOutMovesReplicasOnlyToTheNewBroker(@ForAll @IntRange(min = 3, max = 6) int brokers,
            @ForAll @IntRange(min = 1, max = 30) int shards, @ForAll @IntRange(min = 1, max = 3) int factor, @ForAll long seed) {
        // factor <= brokers: scaling out moves replicas rather than adding missing ones
        Case c = generate(brokers, 1, shards, 1, seed);
        Map<ShardId, Integer> factors = new HashMap<>();
        c.factors().keySet().forEach(s -> factors.put(s, factor));
        Map<ShardId, List<Integer>> before = AssignmentPlanner.plan(c.brokers(), c.current(), factors);
        List<Broker> grown = new ArrayList<>(c.brokers());
        grown.add(new Broker(brokers, "rack-0"));
        Map<ShardId, List<Integer>> after = AssignmentPlanner.plan(grown, before, factors);
        int moved = 0;
        for (ShardId s : before.keySet()) {
            Set<Integer> added = new HashSet<>(after.get(s));
            added.removeAll(before.get(s));
            assertThat(added).as("replicas added to " + s).isSubsetOf(Set.of(brokers));
            moved += added.size();
        }
        int total = before.values().stream().mapToInt(List::size).sum();
        assertThat(moved).as("moves").isLessThanOrEqualTo((total + brokers) / (brokers + 1));
    }

    @Property
    void scalingInDrainsTheLeavingBrokerWithFewMoves(@ForAll @IntRange(min = 2, max = 7) int brokers,
            @ForAll @IntRange(min = 1, max = 3) int racks, @ForAll @IntRange(min = 1, max = 30) int shards,
            @ForAll @IntRange(min = 1, max = 3) int maxFactor, @ForAll long seed) {
        Case c = generate(brokers, racks, shards, maxFactor, seed);
        Map<ShardId, List<Integer>> before = AssignmentPlanner.plan(c.brokers(), c.current(), c.factors());
        List<Broker> shrunk = c.brokers().subList(0, brokers - 1);
        Map<ShardId, List<Integer>> after = AssignmentPlanner.plan(shrunk, before, c.factors());
        int leaving = brokers - 1;
        int held = (int) before.values().stream().filter(r -> r.contains(leaving)).count();
        int added = 0;
        for (ShardId s : before.keySet()) {
            assertThat(after.get(s)).as("shard " + s + " drains off broker " + leaving).doesNotContain(leaving);
            Set<Integer> gained = new HashSet<>(after.get(s));
            gained.removeAll(before.get(s));
            added += gained.size();
        }
        if (racks == 1 && c.factors().values().stream().allMatch(f -> f <= brokers - 1)) {
            // the leaving broker's replicas find homes, and rebalancing the rest costs at most as many moves again
            assertThat(added).as("replicas added").isLessThanOrEqualTo(2 * held + 1);
        }
    }
}
