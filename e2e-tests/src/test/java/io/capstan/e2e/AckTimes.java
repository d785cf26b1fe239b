package io.capstan.e2e;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * When each acknowledged record was sent and acknowledged (nanoTime), per shard: the fault tests' measure of produce
 * unavailability ("the first record sent after the fault, acknowledged") and of its absence.
 */
final class AckTimes {
    private final List<ConcurrentLinkedQueue<long[]>> byShard = new ArrayList<>();

    AckTimes(int shards) {
        for (int p = 0; p < shards; p++) {
            byShard.add(new ConcurrentLinkedQueue<>());
        }
    }

    void acknowledged(int shard, long sentAtNanos) {
        byShard.get(shard).add(new long[] {sentAtNanos, System.nanoTime()});
    }

    /** Waits until a record sent to {@code shard} after {@code sinceNanos} is acknowledged; when that happened. */
    long awaitAckOfSendAfter(int shard, long sinceNanos) {
        AtomicLong first = new AtomicLong();
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20)).until(() -> {
            for (long[] t : byShard.get(shard)) {
                if (t[0] > sinceNanos) {
                    first.set(t[1]);
                    return true;
                }
            }
            return false;
        });
        return first.get();
    }

    /** How many acknowledgements of {@code shard} arrived after {@code sinceNanos}. */
    long acknowledgedAfter(int shard, long sinceNanos) {
        return byShard.get(shard).stream().filter(t -> t[1] > sinceNanos).count();
    }
}
