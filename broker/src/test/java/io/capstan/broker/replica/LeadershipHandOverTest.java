package io.capstan.broker.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.cluster.controller.BrokerLease;
import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataCache;
import io.capstan.cluster.metadata.ShardId;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.ShardStore;
import io.capstan.cluster.view.ClusterView;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Controlled shutdown alone, on a real file store: each led shard goes to a live in-sync replica in a new epoch; a
 * shard whose only other replica is dead or out of sync stays; a shard that changed meanwhile is left alone.
 */
class LeadershipHandOverTest {
    private static final int ME = 1;

    @TempDir
    Path dir;

    @Test
    void everyLedShardGoesToALiveInSyncReplicaOrStays() throws Exception {
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir, 20)) {
            ShardStore shards = new ShardStore(store);
            shards.create(List.of(
                    new ShardState("t", 0, List.of(1, 2, 3), ME, 4, List.of(1, 2, 3)),   // 2 is alive and in sync
                    new ShardState("t", 1, List.of(1, 3, 2), ME, 0, List.of(1, 3, 2)),   // 3 is dead: 2 takes it
                    new ShardState("t", 2, List.of(1, 2), ME, 0, List.of(1)),            // 2 is not in sync: stays
                    new ShardState("t", 3, List.of(1, 3), ME, 0, List.of(1, 3)),         // 3 is dead: stays
                    new ShardState("t", 4, List.of(1, 2), ME, 0, List.of(1, 2))));       // changed meanwhile
            BrokerLease[] leases = {lease(store, 1), lease(store, 2)};
            try (ClusterView view = new ClusterView(MetadataCache.open(store, Duration.ofSeconds(30)), System::currentTimeMillis)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> view.shards().size() == 5 && view.aliveBrokerIds().size() == 2);
                Map<TopicPartition, Role> roles = new ConcurrentHashMap<>();
                for (int p = 0; p < 5; p++) {
                    ShardState s = view.state("t", p);
                    ReplicaTracker tracker = new ReplicaTracker(ME, s.replicas(), s.isr(), 0, 0, view.now(), 10_000);
                    roles.put(new TopicPartition("t", p), new Leading(s.leaderEpoch(), tracker, s, view.shard(new ShardId("t", p)).version()));
                }
                roles.put(new TopicPartition("t", 9), new Following(0, 2)); // followed shards are not this broker's to hand over
                ShardState elsewhere = new ShardState("t", 4, List.of(1, 2), 2, 1, List.of(2));
                shards.compareAndSet(elsewhere, 1);
                List<TopicPartition> stopped = new CopyOnWriteArrayList<>();

                int moved = LeadershipHandOver.handOver(ME, view, roles, stopped::add);

                assertThat(moved).isEqualTo(2);
                assertThat(stopped).containsExactlyInAnyOrder(new TopicPartition("t", 0), new TopicPartition("t", 1));
                assertThat(roles).doesNotContainKeys(new TopicPartition("t", 0), new TopicPartition("t", 1))
                        .containsKeys(new TopicPartition("t", 2), new TopicPartition("t", 3), new TopicPartition("t", 4), new TopicPartition("t", 9));
                ShardState zero = shards.get("t", 0).orElseThrow().state();
                assertThat(zero.leader()).isEqualTo(2);
                assertThat(zero.leaderEpoch()).isEqualTo(5);
                assertThat(zero.isr()).doesNotContain(ME);
                assertThat(shards.get("t", 1).orElseThrow().state().leader()).isEqualTo(2);
                assertThat(shards.get("t", 2).orElseThrow().state().leader()).isEqualTo(ME);
                assertThat(shards.get("t", 3).orElseThrow().state().leader()).isEqualTo(ME);
                assertThat(shards.get("t", 4).orElseThrow().state()).isEqualTo(elsewhere);
            } finally {
                for (BrokerLease l : leases) {
                    l.close();
                }
            }
        }
    }

    private static BrokerLease lease(LocalFileMetadataStore store, int id) throws Exception {
        BrokerLease lease = new BrokerLease(store, new BrokerRegistration(id, "127.0.0.1", 9000 + id, null, 0), 60_000,
                System::currentTimeMillis);
        lease.start();
        return lease;
    }
}
