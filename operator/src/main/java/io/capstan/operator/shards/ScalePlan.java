package io.capstan.operator.shards;

import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.planner.AssignmentPlanner;
import io.capstan.cluster.planner.AssignmentPlanner.Broker;
import io.capstan.cluster.planner.AssignmentPlanner.ShardId;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a change of spec.replicas means for shards, decided purely. Scale out: the StatefulSet grows at once, and once
 * the new brokers have registered, shards are reassigned onto them (they catch up before old replicas leave). Scale
 * in: shards are first moved off the highest ordinals, and only when none is left there does the StatefulSet shrink;
 * refused when the brokers left could not hold a topic's replicas. One wave of reassignments at a time.
 */
public final class ScalePlan {
    private ScalePlan() {}

    /**
     * @param statefulSetReplicas what the StatefulSet should have now
     * @param reassign shards to move, with their new replicas
     * @param balancedFor set when the shards are placed for {@code want} brokers (recorded in the status)
     * @param refusal why the requested size is refused (null when it is not)
     */
    public record Decision(int statefulSetReplicas, Map<ShardId, List<Integer>> reassign, Integer balancedFor, String message,
                           String refusal) {}

    public static Decision decide(int want, int running, Integer balancedFor, List<Broker> alive, List<ShardState> shards) {
        boolean scaleIn = want < running;
        int maxFactor = 0;
        String widest = null;
        for (ShardState s : shards) {
            int factor = s.targetReplicas().size();
            if (factor > maxFactor) {
                maxFactor = factor;
                widest = s.topic();
            }
        }
        if (scaleIn && want < maxFactor) {
            return new Decision(running, Map.of(), balancedFor, "scale-in refused", "spec.replicas=" + want
                    + " cannot hold the " + maxFactor + " replicas of topic " + widest + "; keep at least " + maxFactor + " brokers");
        }
        long moving = shards.stream().filter(ShardState::reassigning).count();
        if (moving > 0) {
            return new Decision(scaleIn ? running : want, Map.of(), balancedFor, "waiting for " + moving + " shard(s) to finish moving", null);
        }
        if (!scaleIn && balancedFor != null && balancedFor == want) {
            return new Decision(want, Map.of(), balancedFor, "shards are placed for " + want + " brokers", null);
        }
        List<Broker> targets = alive.stream().filter(b -> b.id() < want).toList();
        if (!scaleIn && targets.size() < want) {
            return new Decision(want, Map.of(), balancedFor, targets.size() + " of " + want + " brokers registered; waiting for the rest", null);
        }
        Map<ShardId, List<Integer>> current = new TreeMap<>();
        Map<ShardId, Integer> factors = new HashMap<>();
        for (ShardState s : shards) {
            ShardId id = new ShardId(s.topic(), s.partition());
            current.put(id, s.replicas());
            factors.put(id, s.targetReplicas().size());
        }
        Map<ShardId, List<Integer>> plan = AssignmentPlanner.plan(targets, current, factors);
        Map<ShardId, List<Integer>> moves = new TreeMap<>();
        plan.forEach((id, replicas) -> {
            if (!new HashSet<>(replicas).equals(new HashSet<>(current.get(id)))) {
                moves.put(id, replicas);
            }
        });
        if (!moves.isEmpty()) {
            return new Decision(scaleIn ? running : want, moves, balancedFor, "moving " + moves.size() + " shard(s) for "
                    + want + " brokers", null);
        }
        return new Decision(want, Map.of(), want, scaleIn ? "shards drained off brokers " + want + ".." + (running - 1)
                + "; shrinking" : "shards are placed for " + want + " brokers", null);
    }
}
