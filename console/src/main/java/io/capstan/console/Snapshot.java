package io.capstan.console;

import java.util.List;

/** What the console shows of a cluster at one moment, read through the Kafka Admin API as any Kafka tool would. */
public record Snapshot(long takenAtMs, String clusterId, int controllerId, List<Broker> brokers, List<Topic> topics, List<Group> groups) {

    public record Broker(int id, String host, int port, String rack, int leaders, int replicas) {}

    public record Topic(String name, int replicationFactor, long records, long sizeBytes, List<Partition> partitions) {}

    /** {@code sizeBytes}: the leader's replica as DescribeLogDirs reports it, -1 when the leader did not say. */
    public record Partition(int partition, int leader, List<Integer> replicas, List<Integer> isr, long startOffset, long endOffset, long sizeBytes) {}

    public record Group(String groupId, String type, String state, int members, long totalLag, List<GroupPartition> partitions) {}

    /** {@code committed}: -1 when the group has no committed offset there; lag is then the whole log. */
    public record GroupPartition(String topic, int partition, long committed, long endOffset, long lag, String clientId, String host) {}
}
