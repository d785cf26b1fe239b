package io.capstan.cluster.metadata;

/** A shard's name: its topic and partition. */
public record ShardId(String topic, int partition) {
    public String key() {
        return ShardState.key(topic, partition);
    }

    @Override
    public String toString() {
        return topic + "-" + partition;
    }
}
