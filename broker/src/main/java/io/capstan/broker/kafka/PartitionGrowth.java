package io.capstan.broker.kafka;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.protocol.Errors;

/**
 * Whether a topic may grow to a partition count (CreatePartitions), with Kafka's errors and messages, and the
 * partition limits Capstan adds: per topic (as CreateTopics) and per cluster ({@code max.partitions}). Pure.
 */
public final class PartitionGrowth {
    /** The most partitions one topic may have, at creation or after growing. */
    public static final int MAX_PER_TOPIC = 10_000;

    /** Refused: the error and the message a client sees. */
    public record Refusal(Errors error, String message) {}

    private PartitionGrowth() {}

    /**
     * Null if the topic, now at {@code current} partitions with {@code replicationFactor} replicas each, may grow to
     * {@code requested} with the given manual {@code assignments} (null: Capstan places them), while the cluster holds
     * {@code clusterPartitions} of at most {@code maxPartitions} and {@code liveBrokers} are registered and alive.
     */
    public static Refusal check(int current, int replicationFactor, int requested, List<List<Integer>> assignments,
                                int clusterPartitions, int maxPartitions, Set<Integer> liveBrokers) {
        if (requested < current) {
            return new Refusal(Errors.INVALID_PARTITIONS, "Topic currently has " + current + " partitions, which is higher than the requested " + requested + ".");
        }
        if (requested == current) {
            return new Refusal(Errors.INVALID_PARTITIONS, "Topic already has " + current + " partitions.");
        }
        if (requested > MAX_PER_TOPIC) {
            return new Refusal(Errors.INVALID_PARTITIONS, "A topic may have at most " + MAX_PER_TOPIC + " partitions; " + requested + " were requested.");
        }
        Refusal limit = clusterLimit(requested - current, clusterPartitions, maxPartitions);
        if (limit != null) {
            return limit;
        }
        if (assignments == null) {
            return liveBrokers.size() < replicationFactor ? new Refusal(Errors.INVALID_REPLICATION_FACTOR, "The topic's replication factor "
                    + replicationFactor + " needs that many live brokers; " + liveBrokers.size() + " are alive.") : null;
        }
        int added = requested - current;
        if (assignments.size() != added) {
            return new Refusal(Errors.INVALID_REPLICA_ASSIGNMENT, "Attempted to add " + added + " additional partitions, but only "
                    + assignments.size() + " assignment(s) were specified.");
        }
        for (List<Integer> replicas : assignments) {
            if (replicas.size() != replicationFactor) {
                return new Refusal(Errors.INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment includes a partition with "
                        + replicas.size() + " replica(s), but this is not consistent with previous partitions, which have "
                        + replicationFactor + " replica(s).");
            }
            Set<Integer> seen = new HashSet<>();
            for (int broker : replicas) {
                if (!seen.add(broker)) {
                    return new Refusal(Errors.INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment includes the broker "
                            + broker + " more than once.");
                }
                if (!liveBrokers.contains(broker)) {
                    return new Refusal(Errors.INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment includes broker " + broker
                            + ", but no such broker is registered and alive.");
                }
            }
        }
        return null;
    }

    /** Null if {@code adding} more partitions keep the cluster at or under {@code maxPartitions}. */
    public static Refusal clusterLimit(int adding, int clusterPartitions, int maxPartitions) {
        if ((long) clusterPartitions + adding > maxPartitions) {
            return new Refusal(Errors.POLICY_VIOLATION, "The cluster has " + clusterPartitions + " partitions and may have at most "
                    + maxPartitions + " (max.partitions); adding " + adding + " would pass that. Delete topics you no longer need, or"
                    + " raise max.partitions on every broker knowing that each partition is metadata every broker and the controller hold.");
        }
        return null;
    }
}
