package io.capstan.e2e;

import static org.awaitility.Awaitility.await;

import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.ShardStore;
import java.time.Duration;

/** A topic's shards as the metadata store holds them, read by the fault tests. */
final class StoreShards {
    private StoreShards() {}

    static ShardState shard(MetadataStore store, String topic, int partition) {
        return new ShardStore(store).get(topic, partition).orElseThrow().state();
    }

    /** Every shard of {@code topic} led and with {@code replicas} replicas in sync. */
    static void awaitAllInSync(MetadataStore store, String topic, int partitions, int replicas) {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100)).until(() -> {
            for (int p = 0; p < partitions; p++) {
                ShardState s = shard(store, topic, p);
                if (s.leader() < 0 || s.isr().size() < replicas) {
                    return false;
                }
            }
            return true;
        });
    }
}
