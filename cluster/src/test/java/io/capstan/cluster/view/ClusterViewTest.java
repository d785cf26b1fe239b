package io.capstan.cluster.view;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataCache;
import io.capstan.cluster.metadata.ShardId;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.ShardStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterViewTest {
    @TempDir
    Path dir;

    /** Shards are stored 100 to an object: a write of one of them must not look, to listeners, like 100 changes. */
    @Test
    void listenersHearOnlyTheShardsOfAGroupThatChanged() throws Exception {
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir, 20)) {
            List<ShardState> shards = new ArrayList<>();
            for (int p = 0; p < 10; p++) {
                shards.add(new ShardState("v", p, List.of(1, 2, 3), 1, 0, List.of(1, 2, 3)));
            }
            new ShardStore(store).create(shards);
            try (MetadataCache cache = MetadataCache.open(store, Duration.ofSeconds(30));
                 ClusterView view = new ClusterView(cache, System::currentTimeMillis)) {
                List<ShardId> heard = new CopyOnWriteArrayList<>();
                await().atMost(Duration.ofSeconds(30)).until(() -> view.shards().size() == 10);
                view.subscribe(new ClusterView.Listener() {
                    @Override
                    public void shardChanged(ShardId id, ClusterView.Shard before, ClusterView.Shard after) {
                        if (before != null) {
                            heard.add(id);
                        }
                    }
                });
                view.shardStore().compareAndSet(new ShardState("v", 4, List.of(1, 2, 3), 2, 1, List.of(2, 3)), 1);
                await().atMost(Duration.ofSeconds(30)).until(() -> view.shard(new ShardId("v", 4)).version() == 2);
                assertThat(heard).containsExactly(new ShardId("v", 4));
                assertThat(view.state("v", 4).leader()).isEqualTo(2);
                assertThat(view.shard(new ShardId("v", 5)).version()).isEqualTo(1);
            }
        }
    }

    /**
     * Brokers whose clocks are a minute behind or ahead of the reader's: liveness is judged by when their renewals
     * arrive here, so the one behind is alive while it renews and the one ahead is dead a lease after it stops.
     */
    @Test
    void livenessIsJudgedByThisViewsClockNotTheClocksOfTheBrokers() throws Exception {
        java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong(1_000_000_000L);
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir, 20);
             MetadataCache cache = MetadataCache.open(store, Duration.ofSeconds(30));
             ClusterView view = new ClusterView(cache, now::get)) {
            io.capstan.cluster.metadata.BrokerRegistration behind = new io.capstan.cluster.metadata.BrokerRegistration(1, "h", 1, null, 0);
            io.capstan.cluster.metadata.BrokerRegistration ahead = new io.capstan.cluster.metadata.BrokerRegistration(2, "h", 2, null, 0);
            long behindVersion = store.create(io.capstan.cluster.metadata.BrokerRegistration.key(1),
                    io.capstan.cluster.metadata.MetadataCodec.encode(behind.renewed(now.get() - 60_000, 6_000, 1_000)));
            store.create(io.capstan.cluster.metadata.BrokerRegistration.key(2),
                    io.capstan.cluster.metadata.MetadataCodec.encode(ahead.renewed(now.get() + 60_000, 6_000, 1_000)));
            io.capstan.cluster.metadata.CaughtUp.with(store, cache);
            assertThat(view.brokers()).hasSize(2);
            assertThat(view.broker(1).alive(now.get())).as("by the expiry it wrote, the broker behind looks dead").isFalse();
            assertThat(view.aliveBrokerIds()).as("both renewed just now, as this view saw it").containsExactlyInAnyOrder(1, 2);

            // 5 s on: only the broker behind renews
            now.addAndGet(5_000);
            behindVersion = store.compareAndSet(io.capstan.cluster.metadata.BrokerRegistration.key(1), behindVersion,
                    io.capstan.cluster.metadata.MetadataCodec.encode(behind.renewed(now.get() - 60_000, 6_000, 1_000)));
            io.capstan.cluster.metadata.CaughtUp.with(store, cache);
            now.addAndGet(1_500);
            assertThat(view.broker(2).alive(now.get())).as("by the expiry it wrote, the broker ahead looks alive for a minute").isTrue();
            assertThat(view.aliveBrokerIds()).as("6.5 s without a renewal from the broker ahead: its 6 s lease is over").containsExactly(1);
            assertThat(view.alive(2)).isFalse();

            // an ended lease is over at once, whatever the clocks say
            store.compareAndSet(io.capstan.cluster.metadata.BrokerRegistration.key(1), behindVersion,
                    io.capstan.cluster.metadata.MetadataCodec.encode(behind.renewed(now.get() - 60_000, 6_000, 1_000).withLease(0)));
            io.capstan.cluster.metadata.CaughtUp.with(store, cache);
            assertThat(view.aliveBrokerIds()).isEmpty();
        }
    }
}
