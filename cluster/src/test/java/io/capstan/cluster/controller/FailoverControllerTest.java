package io.capstan.cluster.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.CaughtUp;
import io.capstan.cluster.metadata.MetadataCache;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.view.ClusterView;
import io.capstan.cluster.metadata.ShardState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Leases and failover through a real (file-backed) metadata store, with a clock the test moves. */
class FailoverControllerTest {
    @TempDir
    Path dir;

    @Test
    void aBrokerWhoseLeaseRunsOutLosesLeadershipToAnInSyncReplica() throws Exception {
        AtomicLong clock = new AtomicLong(1_000_000);
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir, 50);
             MetadataCache cache = MetadataCache.open(store, Duration.ofSeconds(30));
             ClusterView view = new ClusterView(cache, clock::get)) {
            List<BrokerLease> leases = List.of(
                    new BrokerLease(store, new BrokerRegistration(1, "127.0.0.1", 9092, "a", 0), 3000, clock::get),
                    new BrokerLease(store, new BrokerRegistration(2, "127.0.0.2", 9092, "b", 0), 3000, clock::get),
                    new BrokerLease(store, new BrokerRegistration(3, "127.0.0.3", 9092, "c", 0), 3000, clock::get));
            for (BrokerLease l : leases) {
                l.renew();
            }
            new io.capstan.cluster.metadata.ShardStore(store).create(List.of(new ShardState("orders", 0, List.of(1, 2, 3), 1, 0, List.of(1, 2, 3)),
                    new ShardState("orders", 1, List.of(2, 3, 1), 2, 0, List.of(2, 3, 1))));
            FailoverController controller = leaseOnly(view);
            CaughtUp.with(store, cache);
            assertThat(controller.pass()).isZero();

            // brokers 2 and 3 keep renewing; broker 1 stops (crashed)
            clock.addAndGet(2000);
            leases.get(1).renew();
            leases.get(2).renew();
            clock.addAndGet(2000);
            CaughtUp.with(store, cache);
            assertThat(controller.pass()).as("one failover, one dead follower fenced").isEqualTo(2);
            assertThat(controller.failovers()).as("failovers counted: the fenced follower is not one").isEqualTo(1);
            assertThat(controller.passes()).isEqualTo(2);
            CaughtUp.with(store, cache);
            ShardState moved = new io.capstan.cluster.metadata.ShardStore(store).get("orders", 0).orElseThrow().state();
            assertThat(moved.leader()).isEqualTo(2);
            assertThat(moved.leaderEpoch()).isEqualTo(1);
            assertThat(moved.isr()).containsExactly(2, 3);
            ShardState untouched = new io.capstan.cluster.metadata.ShardStore(store).get("orders", 1).orElseThrow().state();
            assertThat(untouched.leader()).isEqualTo(2);
            assertThat(untouched.leaderEpoch()).isZero();
            assertThat(untouched.isr()).as("the dead follower is out of the ISR at once, as KRaft fences a broker").containsExactly(2, 3);
            assertThat(controller.pass()).isZero();
        }
    }

    /** Counts compare-and-set calls: what a controller asks the API server to do. */
    private static final class CountingStore implements io.capstan.cluster.metadata.MetadataStore {
        final io.capstan.cluster.metadata.MetadataStore inner;
        final java.util.concurrent.atomic.AtomicInteger casCalls = new java.util.concurrent.atomic.AtomicInteger();

        CountingStore(io.capstan.cluster.metadata.MetadataStore inner) {
            this.inner = inner;
        }

        @Override public java.util.Optional<io.capstan.cluster.metadata.Versioned> get(String key) { return inner.get(key); }
        @Override public java.util.Map<String, io.capstan.cluster.metadata.Versioned> list(String prefix) { return inner.list(prefix); }
        @Override public long create(String key, byte[] value) throws io.capstan.cluster.metadata.ConflictException { return inner.create(key, value); }

        @Override
        public long compareAndSet(String key, long expectedVersion, byte[] value) throws io.capstan.cluster.metadata.ConflictException {
            casCalls.incrementAndGet();
            return inner.compareAndSet(key, expectedVersion, value);
        }

        @Override
        public void delete(String key, long expectedVersion) throws io.capstan.cluster.metadata.ConflictException {
            inner.delete(key, expectedVersion);
        }

        @Override
        public AutoCloseable watch(String prefix, io.capstan.cluster.metadata.MetadataListener listener) {
            return inner.watch(prefix, listener);
        }

        @Override public void close() { inner.close(); }
    }

    @Test
    void shardsWhoseTopicRecordStaysGoneAreRemovedAndOthersAreNot() throws Exception {
        AtomicLong clock = new AtomicLong(1_000_000);
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir, 50);
             MetadataCache cache = MetadataCache.open(store, Duration.ofSeconds(30));
             ClusterView view = new ClusterView(cache, clock::get)) {
            new BrokerLease(store, new BrokerRegistration(1, "127.0.0.1", 9092, "a", 0), 600_000, clock::get).renew();
            // a topic as a creation leaves it (shards, then the record); the controller's package may not use the topics package
            new io.capstan.cluster.metadata.ShardStore(store).create(List.of(new ShardState("kept", 0, List.of(1), 1, 0, List.of(1))));
            store.create(io.capstan.cluster.metadata.TopicRecord.key("kept"), io.capstan.cluster.metadata.MetadataCodec.encode(
                    new io.capstan.cluster.metadata.TopicRecord("kept", "id-kept", 1, 1, java.util.Map.of())));
            // what a deletion stopped between its two writes leaves: shards, no record
            new io.capstan.cluster.metadata.ShardStore(store).create(List.of(new ShardState("ghost", 0, List.of(1), 1, 0, List.of(1))));
            FailoverController controller = leaseOnly(view);
            CaughtUp.with(store, cache);
            controller.pass();
            clock.addAndGet(FailoverController.ORPHAN_GRACE_MS - 1);
            controller.pass();
            assertThat(new io.capstan.cluster.metadata.ShardStore(store).list("ghost")).as("within the grace period").hasSize(1);
            clock.addAndGet(1);
            controller.pass();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> new io.capstan.cluster.metadata.ShardStore(store).list("ghost").isEmpty());
            assertThat(new io.capstan.cluster.metadata.ShardStore(store).list("kept")).hasSize(1);
            controller.close();
        }
    }

    @Test
    void aPassBeforeTheCacheShowsTheControllersOwnWritesAsksTheStoreNothing() throws Exception {
        AtomicLong clock = new AtomicLong(1_000_000);
        try (LocalFileMetadataStore files = new LocalFileMetadataStore(dir, 3_600_000)) {
            CountingStore store = new CountingStore(files);
            List<BrokerLease> leases = List.of(
                    new BrokerLease(store, new BrokerRegistration(1, "h", 1, null, 0), 3000, clock::get),
                    new BrokerLease(store, new BrokerRegistration(2, "h", 2, null, 0), 3000, clock::get));
            for (BrokerLease l : leases) {
                l.renew();
            }
            new io.capstan.cluster.metadata.ShardStore(store).create(List.of(new ShardState("t", 0, List.of(1, 2), 1, 0, List.of(1, 2))));
            try (MetadataCache cache = MetadataCache.open(store, Duration.ofSeconds(30));
                 ClusterView view = new ClusterView(cache, clock::get)) {
                FailoverController controller = leaseOnly(view);
                clock.addAndGet(5000);
                leases.get(1).renew();
                CaughtUp.poll(files);
                int before = store.casCalls.get();
                assertThat(controller.pass()).isEqualTo(1);
                assertThat(store.casCalls.get() - before).isEqualTo(1);
                // the cache has not shown that write yet: deciding again would only be refused
                assertThat(controller.pass()).isZero();
                assertThat(store.casCalls.get() - before).as("compare-and-sets after the second pass").isEqualTo(1);
                CaughtUp.poll(files);
                assertThat(controller.pass()).isZero();
                assertThat(view.state("t", 0).leader()).isEqualTo(2);
            }
        }
    }

    @Test
    void theBackgroundLoopAndRenewalsWorkTogether() throws Exception {
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir, 50);
             BrokerLease one = new BrokerLease(store, new BrokerRegistration(1, "h", 1, null, 0), 600, System::currentTimeMillis);
             BrokerLease two = new BrokerLease(store, new BrokerRegistration(2, "h", 2, null, 0), 600, System::currentTimeMillis);
             FailoverController controller = new FailoverController(store, System::currentTimeMillis)) {
            one.start();
            two.start();
            new io.capstan.cluster.metadata.ShardStore(store).create(List.of(new ShardState("t", 0, List.of(1, 2), 1, 0, List.of(1, 2))));
            controller.start(50);
            one.close(); // broker 1 stops renewing
            await().atMost(Duration.ofSeconds(20)).until(() ->
                    new io.capstan.cluster.metadata.ShardStore(store).get("t", 0).orElseThrow().state().leader() == 2);
        }
    }

    @Test
    void leadershipReturnsToThePreferredReplicaOnceItIsBackInSync() throws Exception {
        AtomicLong clock = new AtomicLong(1_000_000);
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir, 50);
             MetadataCache cache = MetadataCache.open(store, Duration.ofSeconds(30));
             ClusterView view = new ClusterView(cache, clock::get)) {
            for (int id = 1; id <= 3; id++) {
                new BrokerLease(store, new BrokerRegistration(id, "127.0.0.1", 9090 + id, null, 0), 3000, clock::get).renew();
            }
            // broker 1 prefers shard 0 but broker 2 leads it after a failover; broker 1 is back in the ISR
            new io.capstan.cluster.metadata.ShardStore(store).create(List.of(new ShardState("t", 0, List.of(1, 2, 3), 2, 4, List.of(2, 3, 1)),
                    new ShardState("t", 1, List.of(3, 1, 2), 1, 2, List.of(1, 2))));
            FailoverController controller = leaseOnly(view);
            CaughtUp.with(store, cache);
            assertThat(controller.pass()).as("off unless enabled").isZero();
            controller.withPreferredLeaderElection(10_000);
            assertThat(controller.pass()).isEqualTo(1);
            assertThat(controller.failovers()).as("a preferred election is not a failover").isZero();
            ShardState back = new io.capstan.cluster.metadata.ShardStore(store).get("t", 0).orElseThrow().state();
            assertThat(back.leader()).isEqualTo(1);
            assertThat(back.leaderEpoch()).isEqualTo(5);
            assertThat(back.isr()).containsExactly(2, 3, 1);
            assertThat(FailoverController.electPreferred(store, "t", 0, java.util.Set.of(1, 2, 3))).isEqualTo(FailoverController.Preferred.NOT_NEEDED);
            assertThat(FailoverController.electPreferred(store, "t", 1, java.util.Set.of(1, 2, 3)))
                    .as("broker 3 is not in sync").isEqualTo(FailoverController.Preferred.NOT_AVAILABLE);
            assertThat(FailoverController.electPreferred(store, "t", 9, java.util.Set.of(1, 2, 3))).isEqualTo(FailoverController.Preferred.UNKNOWN_SHARD);
        }
    }

    @Test
    void aBrokerWhoseRenewalsStopAndWhosePortRefusesConnectionsLosesItsLeaseBeforeItRunsOut() throws Exception {
        AtomicLong clock = new AtomicLong(1_000_000);
        java.util.Map<Integer, Boolean> probed = new java.util.concurrent.ConcurrentHashMap<>();
        try (java.net.ServerSocket paused = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             LocalFileMetadataStore store = new LocalFileMetadataStore(dir, 50);
             MetadataCache cache = MetadataCache.open(store, Duration.ofSeconds(30));
             ClusterView view = new ClusterView(cache, clock::get)) {
            int refused;
            try (java.net.ServerSocket gone = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                refused = gone.getLocalPort();
            }
            // broker 1's process is gone (nothing listens), broker 2's is paused (its port is open), broker 3 renews
            List<BrokerLease> leases = List.of(
                    new BrokerLease(store, new BrokerRegistration(1, "127.0.0.1", refused, null, 0), 60_000, clock::get),
                    new BrokerLease(store, new BrokerRegistration(2, "127.0.0.1", paused.getLocalPort(), null, 0), 60_000, clock::get),
                    new BrokerLease(store, new BrokerRegistration(3, "no-such-broker.invalid", 9092, null, 0), 60_000, clock::get));
            for (BrokerLease l : leases) {
                l.renew();
            }
            new io.capstan.cluster.metadata.ShardStore(store).create(List.of(new ShardState("t", 0, List.of(1, 2, 3), 1, 0, List.of(1, 2, 3)),
                    new ShardState("t", 1, List.of(2, 3, 1), 2, 0, List.of(2, 3, 1))));
            FailoverController controller = new FailoverController(view).withProcessProbe(b -> {
                boolean gone = ProcessProbe.tcp(2000).gone(b);
                probed.put(b.id(), gone);
                return gone;
            });
            CaughtUp.with(store, cache);
            assertThat(controller.pass()).isZero();
            clock.addAndGet(20_000 + 5_000); // renewals every 20 s (a third of the lease) with a 5 s grace
            leases.get(2).renew();
            CaughtUp.with(store, cache);
            assertThat(controller.pass()).as("still within every lease: nothing moves yet").isZero();
            clock.addAndGet(1);
            controller.pass();
            await().atMost(Duration.ofSeconds(20)).until(() -> probed.size() == 2);
            assertThat(probed).as("brokers 1 and 2 are overdue; broker 3 renewed").containsOnlyKeys(1, 2)
                    .containsEntry(1, true).containsEntry(2, false);
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                CaughtUp.with(store, cache);
                return view.aliveBrokerIds().equals(java.util.Set.of(2, 3));
            });
            assertThat(controller.pass()).as("shard 0 fails over, broker 1 leaves shard 1's ISR").isEqualTo(2);
            CaughtUp.with(store, cache);
            ShardState moved = view.state("t", 0);
            assertThat(moved.leader()).as("35 s before broker 1's lease would have run out").isEqualTo(2);
            assertThat(moved.isr()).containsExactly(2, 3);
            assertThat(view.state("t", 1).leader()).as("the paused broker keeps its leadership until its lease runs out").isEqualTo(2);
        }
    }

    /**
     * A controller that decides by lease expiry alone: these tests move a clock by hand, and a real probe of their
     * made-up addresses would end leases from its own thread, after the test has moved on.
     */
    private static FailoverController leaseOnly(ClusterView view) {
        return new FailoverController(view).withProcessProbe(ProcessProbe.NEVER);
    }
}
