package io.capstan.cluster.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What every MetadataStore must do; each implementation's test extends this. */
abstract class MetadataStoreContract {
    MetadataStore store;

    abstract MetadataStore newStore() throws Exception;

    @BeforeEach
    void open() throws Exception {
        store = newStore();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String s(Versioned v) {
        return new String(v.value(), StandardCharsets.UTF_8);
    }

    @Test
    void createGetAndCreateAgainConflicts() throws Exception {
        long v = store.create("brokers/1", b("one"));
        assertThat(store.get("brokers/1")).hasValueSatisfying(x -> {
            assertThat(s(x)).isEqualTo("one");
            assertThat(x.version()).isEqualTo(v);
        });
        assertThatThrownBy(() -> store.create("brokers/1", b("again"))).isInstanceOf(ConflictException.class);
        assertThat(store.get("brokers/2")).isEmpty();
    }

    @Test
    void compareAndSetNeedsTheCurrentVersion() throws Exception {
        long v1 = store.create("shards/t/0", b("a"));
        long v2 = store.compareAndSet("shards/t/0", v1, b("b"));
        assertThat(v2).isGreaterThan(v1);
        assertThatThrownBy(() -> store.compareAndSet("shards/t/0", v1, b("stale"))).isInstanceOf(ConflictException.class);
        assertThatThrownBy(() -> store.compareAndSet("shards/t/9", 1, b("missing"))).isInstanceOf(ConflictException.class);
        assertThat(s(store.get("shards/t/0").orElseThrow())).isEqualTo("b");
    }

    @Test
    void deleteNeedsTheCurrentVersionAndVersionsAreNeverReused() throws Exception {
        long v1 = store.create("topics/x", b("1"));
        long v2 = store.compareAndSet("topics/x", v1, b("2"));
        assertThatThrownBy(() -> store.delete("topics/x", v1)).isInstanceOf(ConflictException.class);
        store.delete("topics/x", v2);
        assertThat(store.get("topics/x")).isEmpty();
        long v3 = store.create("topics/x", b("3"));
        assertThat(v3).isGreaterThan(v2);
        // a writer holding the version from before the delete cannot overwrite the new key
        assertThatThrownBy(() -> store.compareAndSet("topics/x", v2, b("ghost"))).isInstanceOf(ConflictException.class);
    }

    @Test
    void listReturnsKeysUnderAPrefix() throws Exception {
        store.create("brokers/1", b("a"));
        store.create("brokers/2", b("b"));
        store.create("shards/t/0", b("c"));
        assertThat(store.list("brokers/").keySet()).containsExactly("brokers/1", "brokers/2");
        assertThat(store.list("").keySet()).containsExactlyInAnyOrder("brokers/1", "brokers/2", "shards/t/0");
    }

    @Test
    void concurrentReadModifyWriteLosesNoUpdate() throws Exception {
        store.create("counter", b("0"));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            futures.add(pool.submit(() -> {
                for (int i = 0; i < 25; i++) {
                    CasRetry.update(store, "counter", old -> b(String.valueOf(Long.parseLong(new String(old, StandardCharsets.UTF_8)) + 1)));
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        pool.shutdown();
        assertThat(s(store.get("counter").orElseThrow())).isEqualTo("100");
    }

    @Test
    void watchSeesCreatesUpdatesAndDeletesUnderItsPrefix() throws Exception {
        List<WatchEvent> events = new CopyOnWriteArrayList<>();
        try (AutoCloseable w = store.watch("brokers/", events::add)) {
            long v = store.create("brokers/7", b("up"));
            store.create("shards/t/0", b("not watched"));
            await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 1);
            long v2 = store.compareAndSet("brokers/7", v, b("still up"));
            await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 2);
            store.delete("brokers/7", v2);
            await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 3);
        }
        assertThat(events).extracting(WatchEvent::type)
                .containsExactly(WatchEvent.Type.CREATED, WatchEvent.Type.UPDATED, WatchEvent.Type.DELETED);
        assertThat(events).allMatch(e -> e.value().key().equals("brokers/7"));
    }
}
