package io.capstan.broker.replica;

import io.capstan.broker.log.Shard;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.apache.kafka.common.protocol.Errors;

/**
 * acks=all produce requests whose records are durable on the leader, waiting for the high watermark to pass them.
 * Each completes once: replicated (NONE, or NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below the minimum
 * meanwhile), timed out, or abandoned because this broker stopped leading the shard.
 */
final class PendingAcks {
    private record Waiter(long lastOffset, int minInsync, IntSupplier isrSize, CompletableFuture<Errors> done)
            implements Comparable<Waiter> {
        @Override
        public int compareTo(Waiter o) {
            return Long.compare(lastOffset, o.lastOffset);
        }

        void finish() {
            done.complete(isrSize.getAsInt() >= minInsync ? Errors.NONE : Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND);
        }
    }

    private final Map<Shard, PriorityQueue<Waiter>> waiting = new IdentityHashMap<>();
    private final ScheduledExecutorService timer;

    PendingAcks(ScheduledExecutorService timer) {
        this.timer = timer;
    }

    CompletableFuture<Errors> await(Shard shard, long lastOffset, int minInsync, IntSupplier isrSize, long timeoutMs) {
        CompletableFuture<Errors> done = new CompletableFuture<>();
        Waiter waiter = new Waiter(lastOffset, minInsync, isrSize, done);
        synchronized (this) {
            waiting.computeIfAbsent(shard, s -> new PriorityQueue<>()).add(waiter);
        }
        // the high watermark may have passed between the caller's check and the registration
        released(shard);
        java.util.concurrent.ScheduledFuture<?> timeout = timer.schedule(() -> {
            // out of the queue before it is answered, so that an answered wait is never counted; not in it: a release
            // or an abandon took it and answers it
            synchronized (this) {
                PriorityQueue<Waiter> queue = waiting.get(shard);
                if (queue == null || !queue.remove(waiter)) {
                    return;
                }
            }
            done.complete(isrSize.getAsInt() >= minInsync ? Errors.REQUEST_TIMED_OUT : Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND);
        }, timeoutMs, TimeUnit.MILLISECONDS);
        // answered in time: drop the timer at once rather than keep one per request for the whole timeout
        done.whenComplete((error, failure) -> timeout.cancel(false));
        return done;
    }

    /** The shard's high watermark moved: answer everything below it. */
    void released(Shard shard) {
        List<Waiter> ready = new ArrayList<>();
        long hw = shard.highWatermark();
        synchronized (this) {
            PriorityQueue<Waiter> queue = waiting.get(shard);
            while (queue != null && !queue.isEmpty() && queue.peek().lastOffset() < hw) {
                ready.add(queue.poll());
            }
        }
        ready.forEach(Waiter::finish);
    }

    /** This broker no longer leads the shard: its waiting producers must find the new leader. */
    void abandon(Shard shard, Errors error) {
        PriorityQueue<Waiter> queue;
        synchronized (this) {
            queue = waiting.remove(shard);
        }
        if (queue != null) {
            queue.forEach(w -> w.done().complete(error));
        }
    }

    synchronized int size() {
        return waiting.values().stream().mapToInt(PriorityQueue::size).sum();
    }
}
