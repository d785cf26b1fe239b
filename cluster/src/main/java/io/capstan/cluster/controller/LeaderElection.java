package io.capstan.cluster.controller;

import io.capstan.cluster.metadata.ShardState;
import java.util.Optional;
import java.util.Set;

/**
 * Who should lead a shard. Pure: the controller reads shard states and live brokers, asks this, and writes the answer
 * with compare-and-set. Never elects outside the ISR (no unclean election), and every change of leader moves the
 * epoch so a deposed leader's writes are refused.
 */
public final class LeaderElection {
    private LeaderElection() {}

    /**
     * When the leader is gone: the first replica, in preference order, that is alive and in sync. With none left the
     * shard goes offline (leader -1, epoch moved) rather than lose acknowledged records. Empty when nothing changes.
     */
    public static Optional<ShardState> failover(ShardState shard, Set<Integer> alive) {
        if (shard.leader() >= 0 && alive.contains(shard.leader())) {
            return Optional.empty();
        }
        for (int candidate : shard.replicas()) {
            if (candidate != shard.leader() && alive.contains(candidate) && shard.isr().contains(candidate)) {
                ShardState elected = shard.electLeader(candidate);
                return Optional.of(elected.withIsr(elected.isr().stream().filter(alive::contains).toList()));
            }
        }
        if (shard.leader() < 0) {
            return Optional.empty(); // already offline; wait for an in-sync replica to come back
        }
        return Optional.of(shard.withLeader(-1));
    }

    /**
     * A live leader's in-sync replicas without the brokers whose lease has run out, as KRaft fences a broker that stops
     * heartbeating: acks=all then waits only for replicas that can answer, at once rather than after
     * replica.lag.time.max.ms, and a leader does not have to write thousands of ISR changes itself after a broker dies.
     * The dead broker rejoins like any follower once it has caught up. Empty when nothing changes.
     */
    public static Optional<ShardState> fenceDead(ShardState shard, Set<Integer> alive) {
        if (shard.leader() < 0 || !alive.contains(shard.leader())) {
            return Optional.empty();
        }
        java.util.List<Integer> isr = shard.isr().stream().filter(r -> r == shard.leader() || alive.contains(r)).toList();
        return isr.size() == shard.isr().size() ? Optional.empty() : Optional.of(shard.withIsr(isr));
    }

    /** An offline shard whose in-sync replica came back: it leads again (the first such in preference order). */
    public static Optional<ShardState> recover(ShardState shard, Set<Integer> alive) {
        if (shard.leader() >= 0) {
            return Optional.empty();
        }
        return shard.replicas().stream().filter(r -> alive.contains(r) && shard.isr().contains(r)).findFirst()
                .map(shard::withLeader);
    }

    /** Preferred-leader election (ElectLeaders): hand leadership back to the first replica once it is alive and in sync. */
    public static Optional<ShardState> preferred(ShardState shard, Set<Integer> alive) {
        int preferred = shard.targetReplicas().get(0);
        if (shard.leader() == preferred || !alive.contains(preferred) || !shard.isr().contains(preferred)) {
            return Optional.empty();
        }
        return Optional.of(shard.withLeader(preferred));
    }
}
