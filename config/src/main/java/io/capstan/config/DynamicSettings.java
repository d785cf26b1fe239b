package io.capstan.config;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The broker settings that may change while brokers run ({@code kafka-configs --alter --entity-type brokers}), and how
 * a broker's effective settings are layered, in Kafka's order of precedence: a value set for this broker, then one set
 * as the cluster default ({@code --entity-default}), then the broker's properties file, then the built-in default.
 * Every one of them is cluster-wide in Kafka too, so each may be set either way. Pure: the store and the watch that
 * feed it live in the broker.
 */
public final class DynamicSettings {
    /**
     * The settings every part of the broker reads again on each use rather than once at start. Anything else (ports,
     * directories, security, replication timing) is read at start and refused as Kafka refuses a static setting.
     */
    public static final Set<String> KEYS = Set.of(
            "min.insync.replicas",
            "message.max.bytes",
            "log.message.timestamp.after.max.ms",
            "log.message.timestamp.before.max.ms",
            "retention.ms",
            "retention.bytes",
            "log.cleanup.policy",
            "log.cleaner.delete.retention.ms",
            "log.cleaner.min.compaction.lag.ms",
            "log.cleaner.max.compaction.lag.ms",
            "log.cleaner.min.cleanable.ratio",
            "log.cleaner.io.max.bytes.per.second",
            "max.connections",
            "max.connections.per.ip",
            "leader.replication.throttled.rate",
            "follower.replication.throttled.rate",
            "replica.alter.log.dirs.io.max.bytes.per.second");

    private DynamicSettings() {}

    /** The keys of {@code keys} that cannot change live, sorted (empty when all can). */
    public static Set<String> notDynamic(Collection<String> keys) {
        Set<String> refused = new TreeSet<>();
        for (String k : keys) {
            if (!KEYS.contains(k)) {
                refused.add(k);
            }
        }
        return refused;
    }

    /** The settings a broker runs with: {@code started} overlaid by the cluster defaults, then by its own. */
    private static Map<String, String> layered(Map<String, String> started, Map<String, String> clusterDefaults, Map<String, String> broker) {
        Map<String, String> all = new LinkedHashMap<>(started);
        all.putAll(clusterDefaults);
        all.putAll(broker);
        return all;
    }

    /**
     * The broker's effective configuration, validated as a properties file is: a ConfigException names the setting and
     * what it must be.
     */
    public static BrokerConfig effective(Map<String, String> started, Map<String, String> clusterDefaults, Map<String, String> broker) {
        return BrokerConfig.from(layered(started, clusterDefaults, broker));
    }
}
