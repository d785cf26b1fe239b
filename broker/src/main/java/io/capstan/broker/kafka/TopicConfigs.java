package io.capstan.broker.kafka;

import io.capstan.config.CleanupPolicies;
import java.util.Set;

/** The per-topic settings Capstan honours, their defaults and validation. Anything else is refused by name. */
public final class TopicConfigs {
    public static final Set<String> SUPPORTED = Set.of("retention.ms", "retention.bytes", "cleanup.policy",
            "max.message.bytes", "min.insync.replicas", "message.timestamp.type", "message.timestamp.after.max.ms",
            "message.timestamp.before.max.ms", "delete.retention.ms", "min.compaction.lag.ms", "max.compaction.lag.ms",
            "min.cleanable.dirty.ratio", "leader.replication.throttled.replicas", "follower.replication.throttled.replicas");

    private TopicConfigs() {}

    /** Null if acceptable, else a message naming the key and what is allowed. */
    public static String problem(String key, String value) {
        if (!SUPPORTED.contains(key)) {
            return "topic config '" + key + "' is not supported; supported: " + String.join(", ", new java.util.TreeSet<>(SUPPORTED));
        }
        switch (key) {
            case "cleanup.policy":
                return CleanupPolicies.problem(value);
            case "min.cleanable.dirty.ratio":
                try {
                    double ratio = Double.parseDouble(value);
                    return ratio >= 0 && ratio <= 1 ? null : "min.cleanable.dirty.ratio must be between 0 and 1, got " + value;
                } catch (NumberFormatException e) {
                    return "min.cleanable.dirty.ratio must be a number between 0 and 1, got '" + value + "'";
                }
            case "leader.replication.throttled.replicas", "follower.replication.throttled.replicas":
                return io.capstan.broker.replica.ThrottledReplicas.problem(key, value);
            case "message.timestamp.type":
                return "CreateTime".equals(value) ? null : "message.timestamp.type must be 'CreateTime'";
            default:
                // retention.* are longs (-1: unlimited), the timestamp bounds longs >= 0; max.message.bytes and
                // min.insync.replicas are ints, as in Kafka
                boolean retention = key.startsWith("retention.");
                boolean bound = key.startsWith("message.timestamp.") || key.equals("delete.retention.ms") || key.equals("min.compaction.lag.ms");
                boolean lag = key.equals("max.compaction.lag.ms");
                long min = retention ? -1 : bound ? 0 : 1;
                long max = retention || bound || lag ? Long.MAX_VALUE : Integer.MAX_VALUE;
                try {
                    long v = Long.parseLong(value);
                    if (v < min || v > max) {
                        return key + " must be between " + min + " and " + max + ", got " + value;
                    }
                    return null;
                } catch (NumberFormatException e) {
                    return key + " must be an integer between " + min + " and " + max + ", got '" + value + "'";
                }
        }
    }
}
