package io.capstan.cluster.metadata;

/** A shard's name: its topic and partition. */
public record ShardId(String topic, int partition) {
    @Override
    public String toString() {
        return topic + "-" + partition;
    }
}
