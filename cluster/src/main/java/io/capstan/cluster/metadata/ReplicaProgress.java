package io.capstan.cluster.metadata;

import java.util.Map;

/**
 * A leader's view of one shard's replicas, served on its admin port (/replicas) for `capstan cluster status` and
 * operators: its log end and high watermark, and how far each replica's durable log reaches.
 */
public record ReplicaProgress(String topic, int partition, int leader, int leaderEpoch, long logEnd, long highWatermark,
                              Map<Integer, Long> replicaEnds) {
    public ReplicaProgress {
        replicaEnds = replicaEnds == null ? Map.of() : Map.copyOf(replicaEnds);
    }

    /** Records the furthest-behind replica lacks (0 when all are caught up). */
    public long maxLag() {
        return replicaEnds.values().stream().mapToLong(end -> Math.max(0, logEnd - end)).max().orElse(0);
    }
}
