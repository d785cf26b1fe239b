package io.capstan.broker.group.modern;

import java.util.List;

/**
 * Kafka's group.consumer.* settings: the session the coordinator grants a member (the client no longer chooses it),
 * how often members heartbeat, the server-side assignors (the first is the default) and the most members per group.
 */
public record ConsumerGroupSettings(int sessionTimeoutMs, int heartbeatIntervalMs, List<PartitionAssignor> assignors, int maxSize) {
    public ConsumerGroupSettings {
        assignors = List.copyOf(assignors);
        if (assignors.isEmpty()) {
            throw new IllegalArgumentException("at least one assignor");
        }
    }

    public PartitionAssignor assignor(String name) {
        return assignors.stream().filter(a -> a.name().equals(name)).findFirst().orElse(null);
    }
}
