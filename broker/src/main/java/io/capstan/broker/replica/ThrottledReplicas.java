package io.capstan.broker.replica;

import java.util.HashSet;
import java.util.Set;

/**
 * A topic's {@code leader.replication.throttled.replicas} or {@code follower.replication.throttled.replicas}, as Kafka
 * writes them: empty (none), {@code *} (every replica), or {@code partition:broker} pairs separated by commas, which
 * kafka-reassign-partitions sets for the replicas a reassignment copies from (leader side) and to (follower side).
 */
public final class ThrottledReplicas {
    public static final ThrottledReplicas NONE = new ThrottledReplicas(false, Set.of());

    private final boolean all;
    private final Set<Long> pairs;

    private ThrottledReplicas(boolean all, Set<Long> pairs) {
        this.all = all;
        this.pairs = pairs;
    }

    /** Parses a value; throws IllegalArgumentException naming what is wrong (see {@link #problem}). */
    public static ThrottledReplicas parse(String value) {
        if (value == null || value.isBlank()) {
            return NONE;
        }
        if (value.trim().equals("*")) {
            return new ThrottledReplicas(true, Set.of());
        }
        Set<Long> pairs = new HashSet<>();
        for (String item : value.split(",")) {
            String[] parts = item.trim().split(":");
            if (parts.length != 2) {
                throw new IllegalArgumentException("'" + item.trim() + "' is not partition:broker");
            }
            try {
                int partition = Integer.parseInt(parts[0].trim());
                int broker = Integer.parseInt(parts[1].trim());
                if (partition < 0 || broker < 0) {
                    throw new IllegalArgumentException("'" + item.trim() + "' names a negative partition or broker");
                }
                pairs.add(key(partition, broker));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + item.trim() + "' is not partition:broker with two numbers");
            }
        }
        return new ThrottledReplicas(false, pairs);
    }

    /** Null if {@code value} is a valid list, else what is wrong with it and what is expected, for the config's name {@code key}. */
    public static String problem(String key, String value) {
        try {
            parse(value);
            return null;
        } catch (IllegalArgumentException e) {
            return key + " must be empty, * or partition:broker pairs separated by commas (e.g. 0:1,0:2); " + e.getMessage();
        }
    }

    /** Whether the replica of {@code partition} on {@code broker} is named. */
    public boolean includes(int partition, int broker) {
        return all || pairs.contains(key(partition, broker));
    }

    private static long key(int partition, int broker) {
        return ((long) partition << 32) | (broker & 0xffffffffL);
    }
}
