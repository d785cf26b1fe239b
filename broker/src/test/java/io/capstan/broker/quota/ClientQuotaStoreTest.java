package io.capstan.broker.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataCache;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** On a real metadata store (a directory), through the cache brokers use: what is set, where it applies, who shares a rate. */
class ClientQuotaStoreTest {
    private static final String KEY = ClientThrottles.PRODUCER_BYTE_RATE;
    private static final QuotaEntity.Name DEFAULT = QuotaEntity.Name.DEFAULT;

    @TempDir
    Path dir;
    private LocalFileMetadataStore store;
    private MetadataCache cache;
    private ClientQuotaStore quotas;

    @BeforeEach
    void open() {
        store = new LocalFileMetadataStore(dir, 100);
        cache = MetadataCache.open(store, Duration.ofSeconds(10));
        quotas = new ClientQuotaStore(cache);
    }

    @AfterEach
    void close() {
        quotas.close();
        cache.close();
        store.close();
    }

    private static QuotaEntity.Name n(String name) {
        return new QuotaEntity.Name(name);
    }

    private void set(QuotaEntity e, double value) {
        quotas.alter(e, Map.of(KEY, value));
    }

    /** Kafka's eight levels, most specific first: each is removed in turn and the next one applies. */
    @Test
    void theMostSpecificEntityApplies() {
        QuotaEntity[] order = {
            new QuotaEntity(n("alice"), n("app")), new QuotaEntity(n("alice"), DEFAULT), new QuotaEntity(n("alice"), null),
            new QuotaEntity(DEFAULT, n("app")), new QuotaEntity(DEFAULT, DEFAULT), new QuotaEntity(DEFAULT, null),
            new QuotaEntity(null, n("app")), new QuotaEntity(null, DEFAULT),
        };
        for (int i = 0; i < order.length; i++) {
            set(order[i], 1_000 + i);
        }
        for (int i = 0; i < order.length; i++) {
            assertThat(quotas.applied(KEY, "alice", "app")).get().isEqualTo(new ClientQuotaStore.Applied(1_000 + i, order[i]));
            Map<String, Double> remove = new HashMap<>();
            remove.put(KEY, null);
            quotas.alter(order[i], remove);
        }
        assertThat(quotas.applied(KEY, "alice", "app")).isEmpty();
        assertThat(quotas.describe()).isEmpty();
    }

    @Test
    void aQuotaAppliesOnlyToItsKeyAndItsClients() {
        set(new QuotaEntity(null, n("app")), 5_000);
        assertThat(quotas.applied(ClientThrottles.CONSUMER_BYTE_RATE, "alice", "app")).isEmpty();
        assertThat(quotas.applied(KEY, "alice", "other")).isEmpty();
        assertThat(quotas.applied(KEY, "bob", "app")).get().extracting(ClientQuotaStore.Applied::limit).isEqualTo(5_000.0);
    }

    /** A second broker (its own cache on the same store) applies a quota another one wrote, and sees it removed. */
    @Test
    void everyBrokerFollowsTheStore() throws Exception {
        try (MetadataCache other = MetadataCache.open(store, Duration.ofSeconds(10)); ClientQuotaStore otherQuotas = new ClientQuotaStore(other)) {
            QuotaEntity user = new QuotaEntity(n("a user with a name longer than any file name may be: " + "x".repeat(300)), null);
            set(user, 7_000);
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> otherQuotas.applied(KEY, user.user().name(), "c").isPresent());
            assertThat(otherQuotas.describe()).containsEntry(user, Map.of(KEY, 7_000.0));
            Map<String, Double> remove = new HashMap<>();
            remove.put(KEY, null);
            quotas.alter(user, remove);
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> otherQuotas.applied(KEY, user.user().name(), "c").isEmpty());
        }
    }

    /** A default-user quota measures each user on their own; a client-id quota is shared by every user of that client id. */
    @Test
    void clientsShareTheRateOfTheEntityTheirQuotaCameFrom() {
        set(new QuotaEntity(DEFAULT, null), 1_000);
        set(new QuotaEntity(null, n("shared")), 1_000);
        long[] now = {0};
        ClientThrottles throttles = new ClientThrottles(quotas, () -> now[0], 11, 1_000);
        assertThat(throttles.record(KEY, "alice", "x", 10_000)).isZero();
        assertThat(throttles.record(KEY, "alice", "y", 10_000)).as("alice's second client adds to her rate").isPositive();
        assertThat(throttles.record(KEY, "bob", "x", 10_000)).as("bob has a rate of his own").isZero();
        quotas.alter(new QuotaEntity(DEFAULT, null), mapWithNull());
        assertThat(throttles.record(KEY, "carol", "shared", 10_000)).isZero();
        assertThat(throttles.record(KEY, "dave", "shared", 10_000)).as("one client id, one rate").isPositive();
        assertThat(throttles.record(KEY, "erin", "free", 1_000_000_000)).as("no quota applies").isZero();
        assertThat(throttles.record(KEY, "frank", "shared", 1_000_000_000)).as("at most the whole window").isEqualTo(11_000);
    }

    private static Map<String, Double> mapWithNull() {
        Map<String, Double> m = new HashMap<>();
        m.put(KEY, null);
        return m;
    }

    /**
     * Found by ResponseThrottleTest in CI: the watch delivered the first of two quick writes after the second had been
     * applied locally, and the view went back to the first value until the next event. Here the watch is held (a
     * listener ahead of the quota store's blocks) once it has seen the first write, until the second is written.
     */
    @Test
    void aValueWrittenHereIsNotReplacedByAnOlderOneTheWatchDeliversLate() throws Exception {
        QuotaEntity app = new QuotaEntity(null, new QuotaEntity.Name("late"));
        java.util.concurrent.CountDownLatch firstSeen = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch secondWritten = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch firstApplied = new java.util.concurrent.CountDownLatch(1);
        try (LocalFileMetadataStore own = new LocalFileMetadataStore(dir.resolve("late"), 20);
             MetadataCache watched = MetadataCache.open(own, Duration.ofSeconds(10))) {
            watched.subscribe(ClientQuotaStore.PREFIX, change -> {
                if (firstSeen.getCount() > 0) {
                    firstSeen.countDown();
                    hold(secondWritten);
                }
            });
            ClientQuotaStore late = new ClientQuotaStore(watched);
            java.util.concurrent.CountDownLatch checked = new java.util.concurrent.CountDownLatch(1);
            watched.subscribe(ClientQuotaStore.PREFIX, change -> {
                // held again until the test has looked, so that the second write's event cannot mend the view first
                if (firstApplied.getCount() > 0) {
                    firstApplied.countDown();
                    hold(checked);
                }
            });
            try {
                late.alter(app, Map.of(KEY, 1.0));
                assertThat(firstSeen.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("the watch saw the first write").isTrue();
                late.alter(app, Map.of(KEY, 2.0));
                secondWritten.countDown();
                assertThat(firstApplied.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("the quota store heard of the first write").isTrue();
                try {
                    assertThat(late.applied(KEY, "u", "late")).get().extracting(ClientQuotaStore.Applied::limit).isEqualTo(2.0);
                } finally {
                    checked.countDown();
                }
            } finally {
                secondWritten.countDown();
                late.close();
            }
        }
    }

    /** Holds the watch thread until {@code until} opens. */
    private static void hold(java.util.concurrent.CountDownLatch until) {
        try {
            until.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
