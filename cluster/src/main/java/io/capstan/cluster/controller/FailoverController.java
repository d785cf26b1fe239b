package io.capstan.cluster.controller;

import io.capstan.cluster.DaemonThreads;
import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.Versioned;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's failover loop: every pass reads the brokers' leases and every shard, asks {@link LeaderElection}
 * what should change, and writes each change with compare-and-set (a lost race is simply seen again next pass).
 * The decisions are pure; this class is only the reading and writing around them.
 */
public final class FailoverController implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FailoverController.class);

    private final MetadataStore store;
    private final LongSupplier clock;
    private volatile long preferredIntervalMs;
    private long lastPreferredMs;

    /** What a preferred-leader election did to one shard (ElectLeaders answers with it). */
    public enum Preferred { ELECTED, NOT_NEEDED, NOT_AVAILABLE, UNKNOWN_SHARD }
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("capstan-controller"));

    public FailoverController(MetadataStore store, LongSupplier clock) {
        this.store = store;
        this.clock = clock;
    }

    /**
     * Also hands leadership back to each shard's preferred (first) replica, at most every {@code intervalMs}, once it
     * is alive and in sync: after restarts, leaders would otherwise pile up on the brokers that stayed. 0 turns it off.
     */
    public FailoverController withPreferredLeaderElection(long intervalMs) {
        this.preferredIntervalMs = intervalMs;
        return this;
    }

    public void start(long intervalMs) {
        loop.scheduleWithFixedDelay(() -> {
            try {
                pass();
            } catch (RuntimeException e) {
                log.warn("controller pass failed, retrying: {}", e.toString());
            }
        }, 0, intervalMs, TimeUnit.MILLISECONDS);
    }

    /** One pass; returns how many shards changed. */
    public int pass() {
        long now = clock.getAsLong();
        Set<Integer> alive = aliveBrokers(store, now);
        boolean preferredDue = preferredIntervalMs > 0 && now - lastPreferredMs >= preferredIntervalMs;
        if (preferredDue) {
            lastPreferredMs = now;
        }
        int changed = 0;
        for (Versioned v : store.list("shards/").values()) {
            ShardState shard = MetadataCodec.decode(v.value(), ShardState.class);
            Optional<ShardState> next = LeaderElection.failover(shard, alive).or(() -> LeaderElection.recover(shard, alive));
            if (next.isEmpty() && preferredDue) {
                next = LeaderElection.preferred(shard, alive);
            }
            if (next.isEmpty()) {
                next = Reassignment.complete(shard, alive);
            }
            if (next.isEmpty()) {
                continue;
            }
            try {
                store.compareAndSet(v.key(), v.version(), MetadataCodec.encode(next.get()));
                changed++;
                log.info("{}-{}: leader {} -> {} (epoch {}), in sync {}", shard.topic(), shard.partition(), shard.leader(),
                        next.get().leader(), next.get().leaderEpoch(), next.get().isr());
            } catch (ConflictException raced) {
                log.debug("{} changed while deciding; next pass sees the new state", v.key());
            }
        }
        return changed;
    }

    public static Set<Integer> aliveBrokers(MetadataStore store, long nowMs) {
        Set<Integer> alive = new HashSet<>();
        for (Versioned v : store.list("brokers/").values()) {
            BrokerRegistration b = MetadataCodec.decode(v.value(), BrokerRegistration.class);
            if (b.alive(nowMs)) {
                alive.add(b.id());
            }
        }
        return alive;
    }

    /** One preferred-leader election now, by compare-and-set (the ElectLeaders API on any broker calls this). */
    public static Preferred electPreferred(MetadataStore store, String topic, int partition, Set<Integer> alive) {
        String key = ShardState.key(topic, partition);
        for (int attempt = 0; attempt < 10; attempt++) {
            Optional<Versioned> current = store.get(key);
            if (current.isEmpty()) {
                return Preferred.UNKNOWN_SHARD;
            }
            ShardState shard = MetadataCodec.decode(current.get().value(), ShardState.class);
            if (shard.leader() == shard.replicas().get(0)) {
                return Preferred.NOT_NEEDED;
            }
            Optional<ShardState> next = LeaderElection.preferred(shard, alive);
            if (next.isEmpty()) {
                return Preferred.NOT_AVAILABLE;
            }
            try {
                store.compareAndSet(key, current.get().version(), MetadataCodec.encode(next.get()));
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
    }
}
