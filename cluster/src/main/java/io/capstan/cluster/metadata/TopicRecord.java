package io.capstan.cluster.metadata;

import java.util.Map;

/** A topic: its id, shard count, replication factor and per-topic settings. Shards are separate keys. */
public record TopicRecord(String name, String topicId, int partitions, int replicationFactor, Map<String, String> configs) {
    public TopicRecord {
        configs = Map.copyOf(configs);
    }

    public static String key(String name) {
        return "topics/" + name;
    }
}
