package io.capstan.broker.kafka;

import io.capstan.broker.log.CommitListener;
import io.capstan.broker.log.Shard;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Parked long-poll fetches, keyed by the shards they wait on. A group commit that advances a shard wakes every
 * fetch waiting on it; each wake-up runs at most once (the fetch itself decides whether to park again).
 */
public final class FetchPurgatory implements CommitListener {
    private final Map<Shard, Set<Waiter>> waiting = new ConcurrentHashMap<>();

    /** A parked fetch; {@code wake} must be idempotent-safe: it is called at most once per registration. */
    public static final class Waiter {
        private final Runnable wake;
        private final List<Shard> shards;
        private final java.util.concurrent.atomic.AtomicBoolean fired = new java.util.concurrent.atomic.AtomicBoolean();

        Waiter(List<Shard> shards, Runnable wake) {
            this.shards = shards;
            this.wake = wake;
        }

        /** True for the one caller that gets to complete this registration (data arrived or the timer fired). */
        boolean claim() {
            return fired.compareAndSet(false, true);
        }
    }

    public Waiter park(List<Shard> shards, Runnable wake) {
        Waiter waiter = new Waiter(shards, wake);
        for (Shard shard : shards) {
            waiting.computeIfAbsent(shard, s -> ConcurrentHashMap.newKeySet()).add(waiter);
        }
        return waiter;
    }

    public void unpark(Waiter waiter) {
        for (Shard shard : waiter.shards) {
            Set<Waiter> set = waiting.get(shard);
            if (set != null) {
                set.remove(waiter);
            }
        }
    }

    @Override
    public void committed(Shard shard) {
        Set<Waiter> set = waiting.get(shard);
        if (set == null || set.isEmpty()) {
            return;
        }
        for (Waiter waiter : set) {
            if (waiter.claim()) {
                unpark(waiter);
                waiter.wake.run();
            }
        }
    }

    public int parked() {
        return waiting.values().stream().mapToInt(Set::size).sum();
    }
}
