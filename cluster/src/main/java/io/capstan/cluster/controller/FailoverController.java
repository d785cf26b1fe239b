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
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("capstan-controller"));

    public FailoverController(MetadataStore store, LongSupplier clock) {
        this.store = store;
        this.clock = clock;
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
        Set<Integer> alive = new HashSet<>();
        for (Versioned v : store.list("brokers/").values()) {
            BrokerRegistration b = MetadataCodec.decode(v.value(), BrokerRegistration.class);
            if (b.alive(now)) {
                alive.add(b.id());
            }
        }
        int changed = 0;
        for (Versioned v : store.list("shards/").values()) {
            ShardState shard = MetadataCodec.decode(v.value(), ShardState.class);
            Optional<ShardState> next = LeaderElection.failover(shard, alive).or(() -> LeaderElection.recover(shard, alive));
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

    @Override
    public void close() {
        loop.shutdownNow();
    }
}
