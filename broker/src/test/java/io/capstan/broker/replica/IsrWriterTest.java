package io.capstan.broker.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataCache;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.ShardId;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.ShardStore;
import io.capstan.cluster.view.ClusterView;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ISR writer alone, on a real file store: a leader's ISR changes reach the store one write per group of shards,
 * move the high watermark, are retried unchanged when a write has no answer, and are left to the watch when the shard
 * moved underneath.
 */
class IsrWriterTest {
    private static final int ME = 1;
    private static final long LAG_MAX_MS = 1_000;

    @TempDir
    Path dir;
    private final AtomicLong clock = new AtomicLong(1_000_000);
    private final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor();
    private final Map<TopicPartition, Role> roles = new ConcurrentHashMap<>();
    private final Map<TopicPartition, Long> highWatermarks = new ConcurrentHashMap<>();
    private final AtomicInteger resyncs = new AtomicInteger();
    private final List<Long> casVersions = new CopyOnWriteArrayList<>();
    private final AtomicInteger failNextWrites = new AtomicInteger();

    @AfterEach
    void stop() {
        control.shutdownNow();
    }

    @Test
    void laggingFollowersLeaveTheIsrInOneWritePerGroupAndTheHighWatermarkFollows() throws Exception {
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir, 20)) {
            ShardStore shards = new ShardStore(store);
            shards.create(List.of(shard(0, List.of(1, 2)), shard(1, List.of(1, 2)), shard(2, List.of(1, 2))));
            try (ClusterView view = view(store); IsrWriter writer = writer(view)) {
                for (int p = 0; p < 3; p++) {
                    lead(view, p, 10);
                }
                clock.addAndGet(LAG_MAX_MS + 1); // follower 2 never fetched: it is out after the lag limit
                writer.maintain();
                await().atMost(Duration.ofSeconds(30)).until(() -> highWatermarks.size() == 3);
                assertThat(casVersions).as("one compare-and-set for the three shards of one group").hasSize(1);
                for (int p = 0; p < 3; p++) {
                    assertThat(shards.get("t", p).orElseThrow().state().isr()).containsExactly(1);
                    assertThat(highWatermarks).containsEntry(new TopicPartition("t", p), 10L);
                    assertThat(((Leading) roles.get(new TopicPartition("t", p))).state().isr()).containsExactly(1);
                }
            }
        }
    }

    @Test
    void aWriteWithoutAnAnswerIsTriedAgainUnchangedUntilItLands() throws Exception {
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir, 20)) {
            ShardStore shards = new ShardStore(store);
            shards.create(List.of(shard(0, List.of(1, 2))));
            try (ClusterView view = view(store); IsrWriter writer = writer(view)) {
                lead(view, 0, 5);
                clock.addAndGet(LAG_MAX_MS + 1);
                failNextWrites.set(2);
                writer.maintain();
                await().atMost(Duration.ofSeconds(30)).until(() -> highWatermarks.containsKey(new TopicPartition("t", 0)));
                assertThat(casVersions).as("the same compare-and-set, three times").hasSize(3).containsOnly(casVersions.get(0));
                assertThat(shards.get("t", 0).orElseThrow().state().isr()).containsExactly(1);
            }
        }
    }

    @Test
    void aShardThatChangedUnderneathIsLeftToTheWatch() throws Exception {
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir, 20)) {
            ShardStore shards = new ShardStore(store);
            shards.create(List.of(shard(0, List.of(1, 2))));
            try (ClusterView view = view(store); IsrWriter writer = writer(view)) {
                lead(view, 0, 5);
                // the controller moves the shard to broker 2 in a new epoch before the leader's ISR write
                ShardState moved = new ShardState("t", 0, List.of(1, 2), 2, 1, List.of(2));
                shards.compareAndSet(moved, 1);
                clock.addAndGet(LAG_MAX_MS + 1);
                writer.maintain();
                await().atMost(Duration.ofSeconds(30)).until(() -> resyncs.get() == 1);
                assertThat(shards.get("t", 0).orElseThrow().state()).isEqualTo(moved);
                assertThat(highWatermarks).isEmpty();
            }
        }
    }

    private static ShardState shard(int partition, List<Integer> isr) {
        return new ShardState("t", partition, List.of(1, 2), ME, 0, isr);
    }

    private void lead(ClusterView view, int partition, long logEnd) {
        ShardState state = view.state("t", partition);
        ReplicaTracker tracker = new ReplicaTracker(ME, state.replicas(), state.isr(), logEnd, 0, clock.get(), LAG_MAX_MS);
        long version = view.shard(new ShardId("t", partition)).version();
        roles.put(new TopicPartition("t", partition), new Leading(state.leaderEpoch(), tracker, state, version));
    }

    private IsrWriter writer(ClusterView view) {
        return new IsrWriter(ME, view, roles, control, highWatermarks::put, resyncs::incrementAndGet);
    }

    /** A view whose store counts compare-and-sets and can fail the next few without applying them. */
    private ClusterView view(MetadataStore store) {
        MetadataStore watched = (MetadataStore) Proxy.newProxyInstance(MetadataStore.class.getClassLoader(),
                new Class<?>[] {MetadataStore.class}, (proxy, method, args) -> {
                    if (method.getName().equals("compareAndSet")) {
                        casVersions.add((Long) args[1]);
                        if (failNextWrites.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                            throw new IllegalStateException("injected: the API server did not answer");
                        }
                    }
                    try {
                        return method.invoke(store, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        ClusterView view = new ClusterView(MetadataCache.open(watched, Duration.ofSeconds(30)), clock::get);
        await().atMost(Duration.ofSeconds(30)).until(() -> !view.shards().isEmpty());
        return view;
    }
}
