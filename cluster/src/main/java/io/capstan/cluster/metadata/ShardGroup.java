package io.capstan.cluster.metadata;

import java.util.List;

/**
 * The stored form of up to {@link ShardStore#GROUP_SIZE} consecutive shards of one topic: one store object (one
 * ConfigMap on Kubernetes) for all of them, so that a failover or a topic creation writes a handful of objects instead
 * of one per shard (docs/decisions/0011).
 */
public record ShardGroup(String topic, int group, List<VersionedShard> shards) {
    public ShardGroup {
        shards = List.copyOf(shards);
    }
}
