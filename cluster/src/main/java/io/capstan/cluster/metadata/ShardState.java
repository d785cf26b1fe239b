package io.capstan.cluster.metadata;

import java.util.List;

/**
 * One shard's replication state: its replicas in preference order, the leader (-1 when none), the leader epoch
 * (bumped on every leader change, fencing the old leader) and the in-sync replicas. The controller writes replicas
 * and leader; the leader writes its ISR; both by compare-and-set. During a reassignment {@code replicas} is the union
 * of the old and new sets, {@code addingReplicas} are catching up and {@code removingReplicas} leave once they have.
 */
public record ShardState(String topic, int partition, List<Integer> replicas, int leader, int leaderEpoch, List<Integer> isr,
                         List<Integer> addingReplicas, List<Integer> removingReplicas) {
    public ShardState {
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
        addingReplicas = addingReplicas == null ? List.of() : List.copyOf(addingReplicas);
        removingReplicas = removingReplicas == null ? List.of() : List.copyOf(removingReplicas);
        if (leader >= 0 && !isr.contains(leader)) {
            throw new IllegalArgumentException("leader " + leader + " of " + topic + "-" + partition + " is not in its ISR " + isr);
        }
        if (!replicas.containsAll(isr)) {
            throw new IllegalArgumentException("ISR " + isr + " of " + topic + "-" + partition + " is not within replicas " + replicas);
        }
        if (!replicas.containsAll(addingReplicas) || !replicas.containsAll(removingReplicas)) {
            throw new IllegalArgumentException("replicas being added " + addingReplicas + " or removed " + removingReplicas
                    + " of " + topic + "-" + partition + " are not within replicas " + replicas);
        }
    }

    /** A shard not being reassigned. */
    public ShardState(String topic, int partition, List<Integer> replicas, int leader, int leaderEpoch, List<Integer> isr) {
        this(topic, partition, replicas, leader, leaderEpoch, isr, List.of(), List.of());
    }

    public boolean reassigning() {
        return !addingReplicas.isEmpty() || !removingReplicas.isEmpty();
    }

    /** Where the replicas end up: all of them when no reassignment runs. */
    public List<Integer> targetReplicas() {
        return replicas.stream().filter(r -> !removingReplicas.contains(r)).toList();
    }

    /** Where the replicas were before the running reassignment. */
    public List<Integer> originalReplicas() {
        return replicas.stream().filter(r -> !addingReplicas.contains(r)).toList();
    }

    /**
     * Failover: a new leader from the ISR, the old leader out of the ISR (it is presumed dead), and the epoch moved so
     * the old leader's writes are refused. Unclean election (a leader from outside the ISR) is not offered.
     */
    public ShardState electLeader(int newLeader) {
        if (!isr.contains(newLeader)) {
            throw new IllegalArgumentException("broker " + newLeader + " is not in the ISR " + isr + " of " + topic + "-" + partition);
        }
        List<Integer> newIsr = isr.stream().filter(b -> b == newLeader || b != leader).toList();
        return new ShardState(topic, partition, replicas, newLeader, leaderEpoch + 1, newIsr, addingReplicas, removingReplicas);
    }

    public ShardState withIsr(List<Integer> newIsr) {
        return new ShardState(topic, partition, replicas, leader, leaderEpoch, newIsr, addingReplicas, removingReplicas);
    }

    /** The same replicas and ISR under another leader (or none) in a new epoch. */
    public ShardState withLeader(int newLeader) {
        return new ShardState(topic, partition, replicas, newLeader, leaderEpoch + 1, isr, addingReplicas, removingReplicas);
    }
}
