package io.capstan.cluster.metadata;

/**
 * A shard's state and its own version: a counter moved by every write of this shard (not of its group), which is what
 * a shard's compare-and-set names. Versions only grow while the topic exists.
 */
public record VersionedShard(ShardState state, long version) {
    public ShardId id() {
        return new ShardId(state.topic(), state.partition());
    }
}
