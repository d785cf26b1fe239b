package io.capstan.broker.log;

/**
 * How many bytes each shard's tail cache may hold: tail.cache.bytes.per.shard, or an equal share of the broker-wide
 * tail.cache.max.bytes when the shards are many. Without the broker-wide bound the caches grew with the shard count:
 * 1,000 shards at 4 MiB each is 4 GiB, and a broker with a 1 GiB heap filling them ran out of memory.
 */
public final class TailCacheBudget {
    private final long perShardMax;
    private final long brokerMax;
    private volatile long perShard;

    public TailCacheBudget(long perShardMax, long brokerMax) {
        this.perShardMax = perShardMax;
        this.brokerMax = brokerMax;
        this.perShard = perShardMax;
    }

    /** The broker-wide bound a setting of -1 stands for: a quarter of the heap the JVM may grow to. */
    public static long brokerMax(long setting) {
        return setting >= 0 ? setting : Runtime.getRuntime().maxMemory() / 4;
    }

    /** Each shard's share when the broker holds {@code shards} shards. */
    static long share(long perShardMax, long brokerMax, int shards) {
        return shards <= 0 ? perShardMax : Math.min(perShardMax, brokerMax / shards);
    }

    /** Called when the number of shards on this broker changed; caches shrink to the new share at their next trim. */
    public void shards(int count) {
        perShard = share(perShardMax, brokerMax, count);
    }

    public long perShard() {
        return perShard;
    }
}
