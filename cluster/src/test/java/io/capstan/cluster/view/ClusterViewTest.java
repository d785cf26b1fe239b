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
}
