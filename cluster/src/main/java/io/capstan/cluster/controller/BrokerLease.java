package io.capstan.cluster.controller;

import io.capstan.cluster.DaemonThreads;
import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.Versioned;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A broker's registration in the metadata store, renewed every heartbeat interval. The controller treats a broker
 * whose lease has run out as dead and moves leadership off it; a broker that cannot renew (store unreachable) keeps
 * trying and says so in its log, and {@link #held()} tells it when, by its own monotonic clock, the lease it last
 * wrote has run out: from then on the controller may have replaced it, so it must stop acting as a leader.
 */
public final class BrokerLease implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BrokerLease.class);

    private final MetadataStore store;
    private final BrokerRegistration template;
    private final long leaseMs;
    private final long heartbeatMs;
    private final LongSupplier clock;
    private volatile long lastVersion;
    /** System.nanoTime() just before the last renewal that the store accepted. */
    private volatile long renewedNanos = System.nanoTime() - TimeUnit.DAYS.toNanos(1);
    private final ScheduledExecutorService renewer = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("capstan-broker-lease"));

    /** Renewed every {@code heartbeatMs} (broker.heartbeat.interval.ms), each renewal holding for {@code leaseMs}. */
    public BrokerLease(MetadataStore store, BrokerRegistration broker, long leaseMs, long heartbeatMs, LongSupplier clock) {
        this.store = store;
        this.template = broker;
        this.leaseMs = leaseMs;
        this.heartbeatMs = heartbeatMs;
        this.clock = clock;
    }

    /** Renewed every third of its lease. */
    public BrokerLease(MetadataStore store, BrokerRegistration broker, long leaseMs, LongSupplier clock) {
        this(store, broker, leaseMs, leaseMs / 3, clock);
    }

    /**
     * Registers now (failing loudly if that is impossible) and keeps renewing in the background. Returns the store
     * version of the registration, so the broker can wait until its own cache shows it.
     */
    public long start() throws ConflictException {
        long version = renew();
        renewer.scheduleWithFixedDelay(() -> {
            try {
                renew();
            } catch (RuntimeException | ConflictException e) {
                log.warn("cannot renew the lease of broker {}: {}; the controller will fail its shards over if this lasts {} ms",
                        template.id(), e.getMessage(), leaseMs);
            }
        }, heartbeatMs, heartbeatMs, TimeUnit.MILLISECONDS);
        return version;
    }

    /**
     * One renewal: a compare-and-set naming the version this lease last wrote, so a renewal is one write and no read.
     * Only if someone else changed the registration meanwhile (a restart of this broker id, an operator) is it read.
     */
    long renew() throws ConflictException {
        long sent = System.nanoTime(); // the lease holds from no later than this, by any reader's clock (decision 0015)
        long version = write();
        renewedNanos = sent;
        return version;
    }

    private long write() throws ConflictException {
        String key = BrokerRegistration.key(template.id());
        byte[] next = MetadataCodec.encode(template.renewed(clock.getAsLong(), leaseMs, heartbeatMs));
        if (lastVersion > 0) {
            try {
                return lastVersion = store.compareAndSet(key, lastVersion, next);
            } catch (ConflictException changed) {
                lastVersion = 0; // read it below
            }
        }
        // read, then compare-and-set; a write that lands in between (the file store finishing a dead writer's change
        // when it takes its lock, a restart of this broker id elsewhere) means read again, as every writer does
        for (int attempt = 1; ; attempt++) {
            Optional<Versioned> current = store.get(key);
            try {
                lastVersion = current.isEmpty() ? store.create(key, next) : store.compareAndSet(key, current.get().version(), next);
                return lastVersion;
            } catch (ConflictException raced) {
                if (attempt == 5) {
                    throw raced;
                }
            }
        }
    }

    /**
     * Whether the lease this broker last wrote still holds by its own clock: a whole lease has not passed since a
     * renewal that the store accepted was sent. The controller counts a lease from when it saw the renewal, which is
     * no earlier, so once this is false the controller may already have moved this broker's leaderships elsewhere.
     */
    public boolean held() {
        return System.nanoTime() - renewedNanos < TimeUnit.MILLISECONDS.toNanos(leaseMs);
    }

    /**
     * A clean exit: stop renewing and end the lease now, so the controller moves leadership at once instead of after
     * the lease runs out. Best effort: if the store cannot be reached, the lease simply expires.
     */
    public void release() {
        renewer.shutdownNow();
        String key = BrokerRegistration.key(template.id());
        try {
            Optional<Versioned> current = store.get(key);
            if (current.isPresent()) {
                store.compareAndSet(key, current.get().version(), MetadataCodec.encode(template.withLease(0)));
            }
        } catch (RuntimeException | ConflictException e) {
            log.info("broker {}: could not end its lease early ({}); it expires within {} ms", template.id(), e.getMessage(), leaseMs);
        }
    }

    @Override
    public void close() {
        renewer.shutdownNow();
    }
}
