package io.capstan.broker.log;

import io.capstan.config.BrokerConfig;
import io.capstan.config.CleanupPolicies;
import java.util.Map;

/**
 * A topic's cleanup settings: its overrides over the broker's defaults, with Kafka's names. Values were validated when
 * the topic was created or altered.
 */
record CompactionSettings(boolean compact, boolean delete, long deleteRetentionMs, long minLagMs, long maxLagMs, double minDirtyRatio) {

    static CompactionSettings of(Map<String, String> topic, BrokerConfig.Cleaner defaults) {
        String policy = topic.getOrDefault("cleanup.policy", defaults.cleanupPolicy());
        return new CompactionSettings(
                CleanupPolicies.compacts(policy),
                CleanupPolicies.deletes(policy),
                longOf(topic, "delete.retention.ms", defaults.deleteRetentionMs()),
                longOf(topic, "min.compaction.lag.ms", defaults.minCompactionLagMs()),
                longOf(topic, "max.compaction.lag.ms", defaults.maxCompactionLagMs()),
                topic.containsKey("min.cleanable.dirty.ratio") ? Double.parseDouble(topic.get("min.cleanable.dirty.ratio"))
                        : defaults.minCleanableRatio());
    }

    private static long longOf(Map<String, String> topic, String key, long fallback) {
        String v = topic.get(key);
        return v == null ? fallback : Long.parseLong(v);
    }

    /**
     * Whether the cleaner should compact a shard now: its share of not-yet-compacted bytes reached
     * min.cleanable.dirty.ratio, or its oldest dirty batch is older than max.compaction.lag.ms.
     */
    boolean due(double dirtyRatio, long oldestDirtyTimestamp, long nowMs) {
        return compact && ((dirtyRatio > 0 && dirtyRatio >= minDirtyRatio) || overdueMs(oldestDirtyTimestamp, nowMs) > 0);
    }

    /** How far past max.compaction.lag.ms a dirty batch of this timestamp is (0: not yet). */
    long overdueMs(long timestamp, long nowMs) {
        long age = Math.max(0, nowMs - timestamp);
        return age > maxLagMs ? age - maxLagMs : 0;
    }

    /** A batch this recent is not compacted yet (min.compaction.lag.ms). */
    boolean tooRecent(long batchMaxTimestamp, long nowMs) {
        return minLagMs > 0 && batchMaxTimestamp > nowMs - minLagMs;
    }
}
