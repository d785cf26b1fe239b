package io.capstan.broker.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.broker.log.Shard;
import io.capstan.broker.log.TailCacheBudget;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The acks=all waits (Kafka's produce purgatory) and the count {@code capstan_produce_awaiting_replication} shows: each
 * wait is counted until it is answered, whichever way (replicated, the ISR too small, timed out, leadership lost).
 */
class PendingAcksTest {
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final PendingAcks acks = new PendingAcks(timer);
    private final Shard shard = new Shard(new TopicPartition("t", 0), 1, 0, 100, 0, new TailCacheBudget(0, 0));

    @AfterEach
    void stopTimer() {
        timer.shutdownNow();
    }

    @Test
    void eachWaitIsCountedUntilTheHighWatermarkPassesItsLastOffset() {
        shard.replicate(0);
        CompletableFuture<Errors> first = acks.await(shard, 9, 2, () -> 2, 60_000);
        CompletableFuture<Errors> second = acks.await(shard, 49, 2, () -> 2, 60_000);
        CompletableFuture<Errors> shrunk = acks.await(shard, 19, 2, () -> 1, 60_000);
        assertThat(acks.size()).isEqualTo(3);
        shard.advanceHighWatermark(10);
        acks.released(shard);
        assertThat(first).isCompletedWithValue(Errors.NONE);
        assertThat(acks.size()).isEqualTo(2);
        shard.advanceHighWatermark(20);
        acks.released(shard);
        assertThat(shrunk).as("replicated, but by fewer than min.insync.replicas").isCompletedWithValue(Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND);
        assertThat(second).isNotDone();
        assertThat(acks.size()).isEqualTo(1);
        acks.abandon(shard, Errors.NOT_LEADER_OR_FOLLOWER);
        assertThat(second).isCompletedWithValue(Errors.NOT_LEADER_OR_FOLLOWER);
        assertThat(acks.size()).isZero();
    }

    @Test
    void aWaitAlreadyPassedIsAnsweredAtOnceAndATimedOutOneIsNoLongerCounted() throws Exception {
        shard.replicate(0);
        shard.advanceHighWatermark(50);
        assertThat(acks.await(shard, 49, 1, () -> 1, 60_000)).isCompletedWithValue(Errors.NONE);
        assertThat(acks.size()).isZero();
        CompletableFuture<Errors> late = acks.await(shard, 99, 1, () -> 1, 50);
        assertThat(late.get(30, TimeUnit.SECONDS)).isEqualTo(Errors.REQUEST_TIMED_OUT);
        assertThat(acks.size()).isZero();
    }
}
