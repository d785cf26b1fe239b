package io.capstan.cluster.controller;

import io.capstan.cluster.DaemonThreads;
import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.Versioned;
import io.capstan.cluster.metadata.ShardLayoutMigration;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.ShardStore;
import io.capstan.cluster.metadata.VersionedShard;
import io.capstan.cluster.metadata.MetadataCache;
import io.capstan.cluster.metadata.ShardId;
import io.capstan.cluster.view.ClusterView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's failover loop: every pass looks at the brokers' leases and every shard in the metadata cache (memory,
 * not the store), asks {@link LeaderElection} what should change, and writes each change with compare-and-set (a lost
 * race is simply seen again next pass). A pass also runs as soon as a broker or shard changes, so a broker that ends its
 * lease loses its leaderships at once. The decisions are pure; this class is only the reading and writing around them.
 */
public final class FailoverController implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FailoverController.class);

    private final MetadataStore store;
    private final LongSupplier clock;
    private ClusterView view;
    private AutoCloseable changes;
    private volatile long preferredIntervalMs;
    private long lastPreferredMs;

    /** What a preferred-leader election did to one shard (ElectLeaders answers with it). */
    public enum Preferred { ELECTED, NOT_NEEDED, NOT_AVAILABLE, UNKNOWN_SHARD }
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("capstan-controller"));
    /** Group writes in flight at once (the API server and etcd pipeline them; the file store's lock serialises them). */
    private static final int CONCURRENT_WRITES = 16;
    private final java.util.concurrent.ExecutorService writers = Executors.newFixedThreadPool(CONCURRENT_WRITES,
            DaemonThreads.named("capstan-controller-write"));
    private final OverdueRenewals renewals = new OverdueRenewals();
    private final java.util.concurrent.ExecutorService probes = Executors.newSingleThreadExecutor(DaemonThreads.named("capstan-controller-probe"));
    private volatile ProcessProbe probe = ProcessProbe.tcp(1000);
    private ProcessWatch watch;
    /** Shards whose topic record has been gone this long are a deletion that stopped half way (see {@link OrphanShards}). */
    static final long ORPHAN_GRACE_MS = 120_000;
    private final OrphanShards orphans = new OrphanShards(ORPHAN_GRACE_MS);

    /** A controller with its own cache of {@code store} (opened by {@link #start}). */
    public FailoverController(MetadataStore store, LongSupplier clock) {
        this.store = store;
        this.clock = clock;
    }

    /** A controller on a view someone else keeps (tests, and brokers that already have one). */
    public FailoverController(ClusterView view) {
        this.store = view.store();
        this.clock = view::now;
        this.view = view;
    }

    /**
     * Also hands leadership back to each shard's preferred (first) replica, at most every {@code intervalMs}, once it
     * is alive and in sync: after restarts, leaders would otherwise pile up on the brokers that stayed. 0 turns it off.
     */
    public FailoverController withPreferredLeaderElection(long intervalMs) {
        this.preferredIntervalMs = intervalMs;
        return this;
    }

    /**
     * How a broker whose renewals stopped is asked whether its process is gone (default: a TCP connect to its
     * inter-broker port, see {@link ProcessProbe}); {@link ProcessProbe#NEVER} leaves failover to lease expiry alone.
     */
    public FailoverController withProcessProbe(ProcessProbe probe) {
        this.probe = probe;
        return this;
    }

    /**
     * Runs a pass every {@code intervalMs} (leases run out with time, not with changes) and after every change of a
     * broker or shard. Opens the controller's cache first if it has none (waiting for the store's first listing).
     */
    public void start(long intervalMs) {
        ShardLayoutMigration.run(store);
        if (view == null) {
            cache = MetadataCache.open(store, Duration.ofMinutes(2));
            view = new ClusterView(cache, clock);
        }
        changes = view.subscribe(new ClusterView.Listener() {
            @Override
            public void brokerChanged(int id, BrokerRegistration before, BrokerRegistration after) {
                passSoon();
            }

            @Override
            public void shardChanged(ShardId id, ClusterView.Shard before, ClusterView.Shard after) {
                passSoon();
            }
        });
        if (probe != ProcessProbe.NEVER) {
            watch = new ProcessWatch(this::probeSoon, 1000);
        }
        loop.scheduleWithFixedDelay(this::passQuietly, 0, intervalMs, TimeUnit.MILLISECONDS);
    }

    private final java.util.concurrent.atomic.AtomicBoolean passQueued = new java.util.concurrent.atomic.AtomicBoolean();
    private MetadataCache cache;

    /** Coalesces a burst of changes (a new topic's shards, a failover's writes) into one more pass. */
    private void passSoon() {
        if (passQueued.compareAndSet(false, true) && !loop.isShutdown()) {
            loop.execute(() -> {
                passQueued.set(false);
                passQuietly();
            });
        }
    }

    private void passQuietly() {
        try {
            pass();
        } catch (RuntimeException e) {
            log.warn("controller pass failed, retrying: {}", e.toString());
        }
    }

    /** One pass over the cache; returns how many shards changed. */
    public int pass() {
        passes.incrementAndGet();
        long now = clock.getAsLong();
        if (watch != null) {
            watch.track(view.aliveBrokers());
        }
        probeOverdue(now);
        Set<Integer> alive = view.aliveBrokerIds();
        boolean preferredDue = preferredIntervalMs > 0 && now - lastPreferredMs >= preferredIntervalMs;
        if (preferredDue) {
            lastPreferredMs = now;
        }
        List<Decision> decisions = new ArrayList<>();
        for (Map.Entry<ShardId, ClusterView.Shard> e : view.shards().entrySet()) {
            ClusterView.Shard v = e.getValue();
            Long written = pending.get(e.getKey());
            if (written != null) {
                if (v.version() < written) {
                    continue; // this controller's own write is not in the cache yet: deciding again would only conflict
                }
                pending.remove(e.getKey(), written);
            }
            ShardState shard = v.state();
            Optional<ShardState> failedOver = LeaderElection.failover(shard, alive).or(() -> LeaderElection.recover(shard, alive));
            Optional<ShardState> next = failedOver.or(() -> LeaderElection.fenceDead(shard, alive));
            if (next.isEmpty() && preferredDue) {
                next = LeaderElection.preferred(shard, alive);
            }
            if (next.isEmpty()) {
                next = Reassignment.complete(shard, alive);
            }
            boolean failover = failedOver.isPresent();
            next.ifPresent(n -> decisions.add(new Decision(e.getKey(), shard, v.version(), n, failover && n.leader() != shard.leader())));
        }
        // shards without a live leader first: fencing a dead follower can wait, a shard nobody leads cannot
        decisions.sort(java.util.Comparator.comparing(d -> d.from().leader() == d.to().leader()));
        removeOrphans(now);
        return write(decisions);
    }

    /**
     * Deletes the shards of topics whose record has been gone for {@link #ORPHAN_GRACE_MS}, checked once more against
     * the store itself (not the cache) just before, off the pass's thread.
     */
    private void removeOrphans(long now) {
        Set<String> withShards = new java.util.HashSet<>();
        view.shards().keySet().forEach(id -> withShards.add(id.topic()));
        for (String topic : orphans.due(withShards, view.topics().keySet(), now)) {
            orphans.forget(topic);
            writers.execute(() -> {
                try {
                    if (store.get(io.capstan.cluster.metadata.TopicRecord.key(topic)).isPresent()) {
                        return; // the record is there after all (the cache was behind)
                    }
                    new ShardStore(store).delete(topic);
                    log.warn("removed the shards of topic {}: its record has been gone for {} s (a deletion that stopped half way)",
                            topic, ORPHAN_GRACE_MS / 1000);
                } catch (Exception e) {
                    log.warn("cannot remove the leftover shards of topic {}, retrying on a later pass: {}", topic, e.toString());
                }
            });
        }
    }

    /**
     * Brokers whose renewals are overdue are probed off the pass's thread; one whose process is gone has its lease
     * ended now (as a clean exit ends its own), so its shards fail over in about a renewal interval instead of a whole
     * lease. The change of its registration starts the next pass.
     */
    private void probeOverdue(long now) {
        for (BrokerRegistration silent : renewals.dueForProbe(view.aliveBrokers(), view::renewedAt, now)) {
            probeSoon(silent.id());
        }
    }

    /** Probes broker {@code id} off the caller's thread (a pass, or the process watch that saw its connection close). */
    private void probeSoon(int id) {
        if (!probes.isShutdown()) {
            try {
                probes.execute(() -> probeAndEnd(id));
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // the controller is closing
            }
        }
    }

    /**
     * Ends the lease of broker {@code id} if its process is gone: the registration ended is the one seen before the
     * probe, so a broker that restarted and registered meanwhile keeps its new lease. A renewal that arrives during
     * the probe (written before the process died) makes it look again.
     */
    private void probeAndEnd(int id) {
        for (int attempt = 0; attempt < 3; attempt++) {
            Optional<BrokerRegistration> seen = view.aliveBrokers().stream().filter(b -> b.id() == id).findFirst();
            if (seen.isEmpty() || !probe.gone(seen.get()) || !renewedDuringProbe(seen.get(), clock.getAsLong())) {
                return;
            }
        }
    }

    /** Ends the lease of a broker whose process is gone; true when it renewed meanwhile (so nothing was ended). */
    private boolean renewedDuringProbe(BrokerRegistration gone, long now) {
        String key = BrokerRegistration.key(gone.id());
        Optional<Versioned> current = view.cache().get(key);
        if (current.isEmpty()) {
            return false;
        }
        BrokerRegistration stored = MetadataCodec.decode(current.get().value(), BrokerRegistration.class);
        if (stored.leaseExpiresAtMs() != gone.leaseExpiresAtMs()) {
            return !stored.ended();
        }
        try {
            store.compareAndSet(key, current.get().version(), MetadataCodec.encode(stored.withLease(0)));
            log.warn("broker {}: its process is gone ({}:{} refuses connections); its lease is ended now ({} ms before it"
                    + " would have run out) and its shards fail over",
                    gone.id(), gone.host(), gone.port(), Math.max(0, gone.leaseExpiresAtMs() - now));
        } catch (ConflictException renewedMeanwhile) {
            return true;
        } catch (RuntimeException e) {
            log.warn("broker {}: its process looks gone but its lease could not be ended ({}); it runs out within {} ms",
                    gone.id(), e.toString(), Math.max(0, gone.leaseExpiresAtMs() - now));
        }
        return false;
    }

    /** {@code failover}: the shard's leader was gone and this gives it another (or its only replica back). */
    private record Decision(ShardId id, ShardState from, long version, ShardState to, boolean failover) {}

    private final java.util.concurrent.atomic.AtomicLong failovers = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong passes = new java.util.concurrent.atomic.AtomicLong();

    /** Shards given a new leader because theirs was gone, since start (Kafka counts these as leader elections). */
    public long failovers() {
        return failovers.get();
    }

    /** Passes over every shard since start. */
    public long passes() {
        return passes.get();
    }

    /** Versions this controller wrote that its cache has not shown yet. */
    private final Map<ShardId, Long> pending = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Writes the decisions, one store write per group of shards and several groups at once: after a broker dies its
     * thousands of shards change together, and one round trip per shard would make failover as slow as the store's
     * round trip times their number.
     */
    private int write(List<Decision> decisions) {
        if (decisions.isEmpty()) {
            return 0;
        }
        ShardStore shards = view.shardStore();
        Map<ShardId, Decision> byId = new java.util.HashMap<>();
        decisions.forEach(d -> byId.put(d.id(), d));
        Map<String, List<ShardStore.Write>> groups = ShardStore.byGroup(decisions.stream()
                .map(d -> new ShardStore.Write(d.to(), d.version())).toList());
        java.util.concurrent.atomic.AtomicInteger changed = new java.util.concurrent.atomic.AtomicInteger();
        List<java.util.concurrent.Callable<Void>> writes = groups.entrySet().stream().<java.util.concurrent.Callable<Void>>map(g -> () -> {
            try {
                Map<ShardId, Long> written = shards.writeGroup(g.getKey(), g.getValue());
                pending.putAll(written);
                changed.addAndGet(written.size());
                for (ShardId id : written.keySet()) {
                    Decision d = byId.get(id);
                    if (d.failover()) {
                        failovers.incrementAndGet();
                    }
                    log.info("{}: leader {} -> {} (epoch {}), in sync {}", id, d.from().leader(), d.to().leader(), d.to().leaderEpoch(), d.to().isr());
                }
            } catch (RuntimeException e) {
                log.warn("{}: cannot write new leaders ({}); the next pass tries again", g.getKey(), e.toString());
            }
            return null;
        }).toList();
        try {
            if (writes.size() == 1) {
                writes.get(0).call();
            } else {
                writers.invokeAll(writes);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("controller writes failed: {}", e.toString());
        }
        return changed.get();
    }

    /** One preferred-leader election now, by compare-and-set (the ElectLeaders API on any broker calls this). */
    public static Preferred electPreferred(MetadataStore store, String topic, int partition, Set<Integer> alive) {
        ShardStore shards = new ShardStore(store);
        for (int attempt = 0; attempt < 10; attempt++) {
            Optional<VersionedShard> current = shards.get(topic, partition);
            if (current.isEmpty()) {
                return Preferred.UNKNOWN_SHARD;
            }
            ShardState shard = current.get().state();
            if (shard.leader() == shard.replicas().get(0)) {
                return Preferred.NOT_NEEDED;
            }
            Optional<ShardState> next = LeaderElection.preferred(shard, alive);
            if (next.isEmpty()) {
                return Preferred.NOT_AVAILABLE;
            }
            try {
                shards.compareAndSet(next.get(), current.get().version());
                log.info("{}-{}: preferred leader {} elected (epoch {})", topic, partition, next.get().leader(), next.get().leaderEpoch());
                return Preferred.ELECTED;
            } catch (ConflictException raced) {
                // changed meanwhile: decide again on the new state
            }
        }
        return Preferred.NOT_AVAILABLE;
    }

    @Override
    public void close() {
        loop.shutdownNow();
        writers.shutdownNow();
        probes.shutdownNow();
        if (watch != null) {
            watch.close();
        }
        try {
            if (changes != null) {
                changes.close();
            }
        } catch (Exception ignored) {
            // closing anyway
        }
        if (cache != null) {
            view.close();
            cache.close();
        }
    }
}
