package io.capstan.cluster.controller;

import io.capstan.cluster.metadata.ShardState;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Moving a shard's replicas (AlterPartitionReassignments), as Kafka does it: first the new replicas join (the replica
 * set is the union, new ones fetch and catch up), then, once every new replica is in sync, the set becomes the
 * target, leadership moves into it if needed, and the old replicas leave and drop their data. Pure: the controller
 * and the API handlers read, decide here, and write by compare-and-set.
 */
public final class Reassignment {
    private Reassignment() {}

    /**
     * Starts (or replaces) a reassignment to {@code target}. The epoch moves so the leader re-reads its followers.
     * Throws IllegalArgumentException naming what is wrong with the target.
     */
    public static ShardState start(ShardState shard, List<Integer> target, Set<Integer> knownBrokers) {
        String name = shard.topic() + "-" + shard.partition();
        if (target.isEmpty()) {
            throw new IllegalArgumentException("the new replica list of " + name + " is empty");
        }
        if (new HashSet<>(target).size() != target.size()) {
            throw new IllegalArgumentException("the new replica list " + target + " of " + name + " repeats a broker");
        }
        for (int b : target) {
            if (!knownBrokers.contains(b)) {
                throw new IllegalArgumentException("broker " + b + " in the new replica list " + target + " of " + name + " is not registered");
            }
        }
        List<Integer> original = shard.originalReplicas();
        List<Integer> union = new ArrayList<>(target);
        original.stream().filter(r -> !target.contains(r)).forEach(union::add);
        List<Integer> adding = target.stream().filter(r -> !original.contains(r)).toList();
        List<Integer> removing = original.stream().filter(r -> !target.contains(r)).toList();
        List<Integer> isr = shard.isr().stream().filter(union::contains).toList();
        return new ShardState(shard.topic(), shard.partition(), union, shard.leader(), shard.leaderEpoch() + 1, isr, adding, removing);
    }

    /**
     * Finishes a reassignment whose new replicas are all in sync: replicas become the target, the ISR keeps only target
     * members, and the leader moves to the first in-sync target replica that is alive if it is leaving. Empty while
     * replicas are still catching up (or no target replica could lead).
     */
    public static Optional<ShardState> complete(ShardState shard, Set<Integer> alive) {
        if (!shard.reassigning() || !shard.isr().containsAll(shard.addingReplicas())) {
            return Optional.empty();
        }
        List<Integer> target = shard.targetReplicas();
        List<Integer> isr = shard.isr().stream().filter(target::contains).toList();
        int leader = shard.leader();
        if (!target.contains(leader)) {
            Optional<Integer> next = target.stream().filter(r -> isr.contains(r) && alive.contains(r)).findFirst();
            if (next.isEmpty()) {
                return Optional.empty();
            }
            leader = next.get();
        }
        return Optional.of(new ShardState(shard.topic(), shard.partition(), target, leader, shard.leaderEpoch() + 1, isr));
    }

    /** Cancels a running reassignment: back to the original replicas (the leader moves back into them if needed). */
    public static ShardState cancel(ShardState shard, Set<Integer> alive) {
        List<Integer> original = shard.originalReplicas();
        List<Integer> isr = shard.isr().stream().filter(original::contains).toList();
        int leader = original.contains(shard.leader()) ? shard.leader()
                : original.stream().filter(r -> isr.contains(r) && alive.contains(r)).findFirst().orElse(-1);
        return new ShardState(shard.topic(), shard.partition(), original, leader, shard.leaderEpoch() + 1, isr);
    }
}
