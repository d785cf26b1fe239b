package io.capstan.cluster.metadata;

import java.util.List;

/**
 * One shard's replication state: its replicas in preference order, the leader (-1 when none), the leader epoch
 * (bumped on every leader change, fencing the old leader) and the in-sync replicas. The controller writes replicas
 * and leader; the leader writes its ISR; both by compare-and-set.
 */
public record ShardState(String topic, int partition, List<Integer> replicas, int leader, int leaderEpoch, List<Integer> isr) {
    public ShardState {
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
        if (leader >= 0 && !isr.contains(leader)) {
            throw new IllegalArgumentException("leader " + leader + " of " + topic + "-" + partition + " is not in its ISR " + isr);
        }
        if (!replicas.containsAll(isr)) {
            throw new IllegalArgumentException("ISR " + isr + " of " + topic + "-" + partition + " is not within replicas " + replicas);
        }
    }

    public static String key(String topic, int partition) {
        return "shards/" + topic + "/" + partition;
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
        return new ShardState(topic, partition, replicas, newLeader, leaderEpoch + 1, newIsr);
    }

    public ShardState withIsr(List<Integer> newIsr) {
        return new ShardState(topic, partition, replicas, leader, leaderEpoch, newIsr);
    }
}
