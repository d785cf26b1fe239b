package io.capstan.operator.nodes;

import io.capstan.cluster.metadata.ShardState;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * What to do about brokers whose node stopped reporting. Kubernetes itself never replaces a StatefulSet pod it cannot
 * confirm gone (the pod might still run behind a partition), so such a broker stays down until the node returns or
 * someone deletes the pod. With spec.nodeLoss the operator is that someone: once a node has not been Ready for
 * {@code after}, its broker's pod is deleted without waiting for the kubelet, and the StatefulSet starts it elsewhere.
 * A broker on a local volume (a PersistentVolume pinned to the lost node) cannot start elsewhere with it: with
 * releaseLocalVolumes its claim is deleted too, so it starts on a new, empty volume and copies its shards back from the
 * other replicas; but never while one of its shards has no in-sync copy on a live broker, since that volume could hold
 * the last one. One broker per pass. Pure.
 */
public final class NodeLossPlan {
    private NodeLossPlan() {}

    /** spec.nodeLoss: after how long a broker on a lost node is replaced, and whether its local volume goes with it. */
    public record Policy(long afterMs, boolean releaseLocalVolumes) {}

    /**
     * A broker pod: its id, the node it was scheduled to, since when that node has not been Ready (null: it is), its
     * claim, and the node its volume is pinned to (null: the volume can follow the pod to another node).
     */
    public record Broker(int id, String pod, String node, Long nodeNotReadySinceMs, String claim, String volumePinnedTo) {}

    /** Delete {@code pod} (and first {@code releaseClaim}, unless null), saying why. */
    public record Replace(String pod, String releaseClaim, String reason) {}

    /**
     * At most one replacement; what waits and why (a broker whose volume cannot be released yet); and when to look
     * again (ms from now; null: nothing pending).
     */
    public record Decision(Replace replace, List<String> waiting, Long recheckInMs) {
        public Decision {
            waiting = List.copyOf(waiting);
        }
    }

    public static Decision decide(Policy policy, List<Broker> brokers, List<ShardState> shards, Set<Integer> aliveBrokers, long nowMs) {
        if (policy == null) {
            return new Decision(null, List.of(), null);
        }
        List<String> waiting = new ArrayList<>();
        Long recheck = null;
        List<Broker> lost = brokers.stream().filter(b -> b.nodeNotReadySinceMs() != null)
                .sorted(Comparator.comparingInt(Broker::id)).toList();
        for (Broker b : lost) {
            long downMs = nowMs - b.nodeNotReadySinceMs();
            if (downMs < policy.afterMs()) {
                long left = policy.afterMs() - downMs;
                recheck = recheck == null ? left : Math.min(recheck, left);
                continue;
            }
            boolean pinned = b.volumePinnedTo() != null && b.volumePinnedTo().equals(b.node());
            if (!pinned) {
                return new Decision(new Replace(b.pod(), null, "node " + b.node() + " not Ready for " + seconds(downMs)
                        + "; broker " + b.id() + " is started elsewhere with its volume"), waiting, null);
            }
            if (!policy.releaseLocalVolumes()) {
                waiting.add("broker " + b.id() + ": node " + b.node() + " not Ready for " + seconds(downMs) + " and its volume "
                        + b.claim() + " is local to that node; set spec.nodeLoss.releaseLocalVolumes to start it on a new volume");
                continue;
            }
            List<String> lastCopies = lastCopies(b.id(), shards, aliveBrokers);
            if (!lastCopies.isEmpty()) {
                waiting.add("broker " + b.id() + ": its volume " + b.claim() + " may hold the only in-sync copy of "
                        + String.join(", ", lastCopies.subList(0, Math.min(5, lastCopies.size())))
                        + (lastCopies.size() > 5 ? " and " + (lastCopies.size() - 5) + " more" : "")
                        + "; it is kept until another replica is in sync or node " + b.node() + " returns");
                recheck = recheck == null ? 10_000L : Math.min(recheck, 10_000L);
                continue;
            }
            return new Decision(new Replace(b.pod(), b.claim(), "node " + b.node() + " not Ready for " + seconds(downMs)
                    + "; broker " + b.id() + " starts elsewhere on a new volume and copies its shards from the other replicas"),
                    waiting, null);
        }
        return new Decision(null, waiting, recheck);
    }

    /** Shards of {@code broker} with no in-sync replica on another live broker. */
    static List<String> lastCopies(int broker, List<ShardState> shards, Set<Integer> alive) {
        List<String> out = new ArrayList<>();
        for (ShardState s : shards) {
            if (!s.replicas().contains(broker)) {
                continue;
            }
            boolean elsewhere = s.isr().stream().anyMatch(r -> r != broker && alive.contains(r));
            if (!elsewhere) {
                out.add(s.topic() + "-" + s.partition());
            }
        }
        return out;
    }

    private static String seconds(long ms) {
        return (ms / 1000) + " s";
    }
}
