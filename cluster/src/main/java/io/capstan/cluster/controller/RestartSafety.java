package io.capstan.cluster.controller;

import io.capstan.cluster.metadata.ShardState;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * "Is it safe to restart broker N now?": no shard it hosts may fall below min.insync.replicas while it is away, and
 * no shard may already be under-replicated. Pure, so the broker's admin endpoint and the operator's rollout gate give
 * the same answer with the same reasons.
 */
public final class RestartSafety {
    private RestartSafety() {}

    public record Verdict(boolean safe, List<String> reasons) {}

    public static Verdict check(int brokerId, Collection<ShardState> shards, int minInsyncReplicas) {
        return check(brokerId, shards, topic -> minInsyncReplicas);
    }

    /** As above, with min.insync.replicas per topic (a topic config overrides the broker default). */
    public static Verdict check(int brokerId, Collection<ShardState> shards, java.util.function.ToIntFunction<String> minInsyncOf) {
        List<String> reasons = new ArrayList<>();
        for (ShardState s : shards) {
            String name = s.topic() + "-" + s.partition();
            if (s.isr().size() < s.replicas().size()) {
                reasons.add(name + " is under-replicated (in sync " + s.isr() + " of " + s.replicas() + ")");
                continue;
            }
            if (!s.replicas().contains(brokerId)) {
                continue;
            }
            int remaining = s.isr().size() - (s.isr().contains(brokerId) ? 1 : 0);
            int minInsyncReplicas = minInsyncOf.applyAsInt(s.topic());
            if (remaining < minInsyncReplicas) {
                reasons.add(name + " would drop to " + remaining + " in-sync replica(s), below min.insync.replicas=" + minInsyncReplicas);
            }
            if (s.leader() < 0) {
                reasons.add(name + " has no leader");
            }
        }
        return new Verdict(reasons.isEmpty(), List.copyOf(reasons));
    }
}
