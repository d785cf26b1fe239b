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

/** What every MetadataStore must do; each implementation's test extends this (the real API server's in e2e-tests). */
public abstract class MetadataStoreContract {
    protected MetadataStore store;

    protected abstract MetadataStore newStore() throws Exception;

    @BeforeEach
    void open() throws Exception {
        store = newStore();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    protected static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    protected static String s(Versioned v) {
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

    /** Records what a watch delivers, in order. */
    protected static final class Recorder implements MetadataListener {
        public final List<WatchEvent> events = new CopyOnWriteArrayList<>();
        public volatile int syncedAfter = -1;
        public final java.util.concurrent.atomic.AtomicInteger relistings = new java.util.concurrent.atomic.AtomicInteger();

        public Recorder() {}

        @Override
        public void changed(WatchEvent event) {
            events.add(event);
        }

        @Override
        public void synced() {
            syncedAfter = events.size();
        }

        @Override
        public void relisting() {
            relistings.incrementAndGet();
        }

        /** What applying the events in order gives: key to version and value. */
        public java.util.Map<String, String> replayed() {
            java.util.Map<String, String> state = new java.util.TreeMap<>();
            for (WatchEvent e : events) {
                if (e.type() == WatchEvent.Type.DELETED) {
                    state.remove(e.key());
                } else {
                    state.put(e.key(), e.value().version() + ":" + s(e.value()));
                }
            }
            return state;
        }
    }

    protected static java.util.Map<String, String> asReplayed(java.util.Map<String, Versioned> listing) {
        java.util.Map<String, String> state = new java.util.TreeMap<>();
        listing.forEach((k, v) -> state.put(k, v.version() + ":" + s(v)));
        return state;
    }

    @Test
    void watchListsWhatIsThereThenSaysSyncedThenDeliversChangesUnderItsPrefix() throws Exception {
        long v1 = store.create("brokers/1", b("one"));
        store.create("brokers/2", b("two"));
        store.create("shards/t/0", b("not watched"));
        Recorder r = new Recorder();
        try (AutoCloseable w = store.watch("brokers/", r)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> r.syncedAfter >= 0);
            assertThat(r.syncedAfter).isEqualTo(2);
            assertThat(r.events).extracting(WatchEvent::type).containsOnly(WatchEvent.Type.CREATED);
            assertThat(r.events).extracting(WatchEvent::key).containsExactlyInAnyOrder("brokers/1", "brokers/2");
            long v = store.create("brokers/7", b("up"));
            store.create("shards/t/1", b("not watched"));
            long v2 = store.compareAndSet("brokers/7", v, b("still up"));
            store.delete("brokers/7", v2);
            store.compareAndSet("brokers/1", v1, b("one again"));
            await().atMost(Duration.ofSeconds(10)).until(() -> r.events.size() == 6);
            assertThat(r.events.subList(2, 6)).extracting(e -> e.type() + " " + e.key()).containsExactly(
                    "CREATED brokers/7", "UPDATED brokers/7", "DELETED brokers/7", "UPDATED brokers/1");
            assertThat(r.events.get(3).value().version()).isEqualTo(v2);
            // a delete's version is at least the last one (the revision of the delete where the store knows it)
            assertThat(r.events.get(4).value().version()).isGreaterThanOrEqualTo(v2);
            assertThat(r.events.get(5).value().version()).isGreaterThan(v2);
            assertThat(r.replayed()).isEqualTo(asReplayed(store.list("brokers/")));
        }
    }

    @Test
    void aCacheFollowsConcurrentWritersExactlyAndTellsSubscribersWhichKeysChanged() throws Exception {
        store.create("shards/t/0", b("0"));
        try (MetadataCache cache = MetadataCache.open(store, Duration.ofSeconds(30))) {
            assertThat(cache.get("shards/t/0")).hasValueSatisfying(v -> assertThat(s(v)).isEqualTo("0"));
            List<MetadataCache.Change> changes = new CopyOnWriteArrayList<>();
            AutoCloseable sub = cache.subscribe("topics/", changes::add);
            ExecutorService pool = Executors.newFixedThreadPool(3);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int writer = t;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 10; i++) {
                        CasRetry.update(store, "shards/t/0", old -> b(String.valueOf(Long.parseLong(new String(old, StandardCharsets.UTF_8)) + 1)));
                        store.create("topics/w" + writer + "-" + i, b("x"));
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
            pool.shutdown();
            long last = store.create("brokers/9", b("last"));
            assertThat(cache.awaitRevision(last, Duration.ofSeconds(30))).isTrue();
            assertThat(cache.get("brokers/9")).hasValueSatisfying(v -> assertThat(v.version()).isEqualTo(last));
            assertThat(asReplayed(cache.under(""))).isEqualTo(asReplayed(store.list("")));
            assertThat(s(cache.get("shards/t/0").orElseThrow())).isEqualTo("30");
            // subscribers hear only their prefix, each new key once
            assertThat(changes).hasSize(30).allMatch(c -> c.key().startsWith("topics/") && c.before() == null && !c.isDelete());
            sub.close();
            Versioned gone = cache.get("topics/w0-0").orElseThrow();
            store.delete("topics/w0-0", gone.version());
            long after = store.create("brokers/10", b("after"));
            assertThat(cache.awaitRevision(after, Duration.ofSeconds(30))).isTrue();
            assertThat(cache.get("topics/w0-0")).isEmpty();
            assertThat(changes).hasSize(30);
        }
    }

    @Test
    void aSubscriberFirstHearsEveryExistingKeyUnderItsPrefix() throws Exception {
        store.create("security/acls/a", b("a"));
        store.create("security/acls/b", b("b"));
        store.create("security/scram/c", b("c"));
        try (MetadataCache cache = MetadataCache.open(store, Duration.ofSeconds(30))) {
            List<MetadataCache.Change> seen = new CopyOnWriteArrayList<>();
            try (AutoCloseable sub = cache.subscribe("security/acls/", seen::add)) {
                assertThat(seen).extracting(MetadataCache.Change::key).containsExactly("security/acls/a", "security/acls/b");
                Versioned a = cache.get("security/acls/a").orElseThrow();
                store.delete("security/acls/a", a.version());
                await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 3);
                assertThat(seen.get(2).isDelete()).isTrue();
                assertThat(seen.get(2).before()).isEqualTo(a);
            }
        }
    }

    // --- shards in groups (ShardStore) over this store ---

    private static ShardState shard(String topic, int partition, int leader, int epoch) {
        return new ShardState(topic, partition, List.of(1, 2, 3), leader, epoch, List.of(1, 2, 3));
    }

    private static List<ShardState> topic(String name, int partitions) {
        List<ShardState> out = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            out.add(shard(name, p, 1 + p % 3, 0));
        }
        return out;
    }

    @Test
    void shardsOfOneGroupAreWrittenByTheirOwnVersionsNotTheGroups() throws Exception {
        ShardStore shards = new ShardStore(store);
        shards.create(topic("t", 3));
        VersionedShard zero = shards.get("t", 0).orElseThrow();
        VersionedShard one = shards.get("t", 1).orElseThrow();
        assertThat(zero.version()).isEqualTo(1);
        // two writers, each read the group before the other wrote: both shards' writes stand
        assertThat(shards.compareAndSet(shard("t", 0, 2, 1), zero.version())).isEqualTo(2);
        assertThat(shards.compareAndSet(shard("t", 1, 3, 1), one.version())).isEqualTo(2);
        assertThat(shards.get("t", 0).orElseThrow().state().leader()).isEqualTo(2);
        assertThat(shards.get("t", 1).orElseThrow().state().leader()).isEqualTo(3);
        assertThat(shards.get("t", 2).orElseThrow().version()).as("untouched").isEqualTo(1);
        // a write naming a version its shard has left is refused, whatever happened to the others
        assertThatThrownBy(() -> shards.compareAndSet(shard("t", 0, 3, 2), zero.version())).isInstanceOf(ConflictException.class);
        assertThatThrownBy(() -> shards.compareAndSet(shard("t", 7, 1, 0), 1)).as("no such shard").isInstanceOf(ConflictException.class);
        assertThat(shards.get("t", 0).orElseThrow().state().leader()).isEqualTo(2);
    }

    @Test
    void aBatchOfWritesCostsOneStoreWritePerGroupAndSkipsShardsThatMoved() throws Exception {
        ShardStore shards = new ShardStore(store);
        shards.create(topic("big", 250));
        assertThat(store.list(ShardStore.PREFIX).keySet()).as("100 partitions to an object")
                .containsExactlyInAnyOrder("shard-groups/big/0", "shard-groups/big/1", "shard-groups/big/2");
        shards.compareAndSet(shard("big", 5, 3, 1), 1);
        List<ShardStore.Write> writes = new ArrayList<>();
        for (int p = 0; p < 250; p++) {
            writes.add(new ShardStore.Write(shard("big", p, 2, 7), 1));
        }
        java.util.Map<String, Long> before = new java.util.HashMap<>();
        store.list(ShardStore.PREFIX).forEach((k, v) -> before.put(k, v.version()));
        // the real store, with its compare-and-set calls counted on the way through
        java.util.concurrent.atomic.AtomicInteger storeWrites = new java.util.concurrent.atomic.AtomicInteger();
        MetadataStore counted = (MetadataStore) java.lang.reflect.Proxy.newProxyInstance(MetadataStore.class.getClassLoader(),
                new Class<?>[] {MetadataStore.class}, (proxy, method, args) -> {
                    if (method.getName().equals("compareAndSet")) {
                        storeWrites.incrementAndGet();
                    }
                    try {
                        return method.invoke(store, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        java.util.Map<ShardId, Long> written = new ShardStore(counted).compareAndSetAll(writes);
        assertThat(storeWrites.get()).as("store writes for 249 shards in 3 groups").isEqualTo(3);
        assertThat(written).hasSize(249).doesNotContainKey(new ShardId("big", 5)).containsEntry(new ShardId("big", 0), 2L);
        for (java.util.Map.Entry<String, Versioned> group : store.list(ShardStore.PREFIX).entrySet()) {
            assertThat(group.getValue().version()).as("%s was written", group.getKey()).isGreaterThan(before.get(group.getKey()));
        }
        assertThat(shards.list("big")).hasSize(250).allSatisfy(s ->
                assertThat(s.state().leader()).isEqualTo(s.state().partition() == 5 ? 3 : 2));
        shards.delete("big");
        assertThat(shards.list()).isEmpty();
    }

    @Test
    void theOldOneObjectPerShardLayoutMovesIntoGroupsOnceAndForAll() throws Exception {
        for (ShardState s : topic("old", 3)) {
            store.create("shards/old/" + s.partition(), MetadataCodec.encode(s));
        }
        assertThat(ShardLayoutMigration.run(store)).isEqualTo(3);
        assertThat(store.list("shards/")).isEmpty();
        assertThat(new ShardStore(store).list("old")).extracting(VersionedShard::state).containsExactlyInAnyOrderElementsOf(topic("old", 3));
        assertThat(ShardLayoutMigration.run(store)).as("nothing left to move").isZero();
    }
}
