package io.capstan.broker.log;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.config.BrokerConfig;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tail caches of all shards stay within tail.cache.max.bytes, each within its share; readers still get every batch. */
class TailCacheBudgetTest {
    @TempDir
    Path dir;

    @Test
    void eachShardGetsTheSmallerOfItsOwnLimitAndAnEqualShareOfTheBrokers() {
        assertThat(TailCacheBudget.share(4 << 20, 256 << 20, 0)).isEqualTo(4 << 20);
        assertThat(TailCacheBudget.share(4 << 20, 256 << 20, 10)).isEqualTo(4 << 20);
        assertThat(TailCacheBudget.share(4 << 20, 256 << 20, 1_000)).isEqualTo((256 << 20) / 1_000);
        assertThat(TailCacheBudget.share(4 << 20, 0, 5)).isZero();
        assertThat(TailCacheBudget.brokerMax(-1)).isEqualTo(Runtime.getRuntime().maxMemory() / 4);
        assertThat(TailCacheBudget.brokerMax(123)).isEqualTo(123);
    }

    @Test
    void aCacheDropsItsOldestBatchesToItsShareAndABatchLargerThanTheShareEntirely() {
        TailCacheBudget budget = new TailCacheBudget(1_000, 1_000);
        TailCache cache = new TailCache(budget);
        cache.add(0, Unpooled.wrappedBuffer(new byte[400]));
        cache.add(10, Unpooled.wrappedBuffer(new byte[400]));
        assertThat(cache.bytes()).isEqualTo(800);
        cache.add(20, Unpooled.wrappedBuffer(new byte[400]));
        assertThat(cache.bytes()).isEqualTo(800);
        assertThat(cache.firstOffset()).isEqualTo(10);
        budget.shards(2); // 500 each
        cache.trim();
        assertThat(cache.bytes()).isEqualTo(400);
        assertThat(cache.firstOffset()).isEqualTo(20);
        cache.add(30, Unpooled.wrappedBuffer(new byte[600]));
        assertThat(cache.bytes()).as("a batch over the share is not kept, nor what came before it").isZero();
        assertThat(cache.firstOffset()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void manyShardsTogetherStayWithinTheBrokerWideBoundAndEveryBatchIsStillRead() throws Exception {
        long brokerMax = 1 << 20;
        LogManager logs = new LogManager(BrokerConfig.from(Map.of("data.dir", dir.toString(), "disk.min.free.bytes", "0",
                "tail.cache.max.bytes", String.valueOf(brokerMax))), CommitListener.NONE, CommitStats.NONE, FatalErrorHandler.haltProcess());
        try {
            logs.createTopic("small", Uuid.randomUuid(), 2, Map.of());
            Shard first = logs.catalog().shard(new TopicPartition("small", 0));
            for (int i = 0; i < 40; i++) {
                append(logs, first, 16 * 1024); // 640 KiB: within 4 MiB and within half of 1 MiB
            }
            assertThat(first.tail().bytes()).as("two shards: half the bound each").isGreaterThan(400_000).isLessThanOrEqualTo(brokerMax / 2);

            logs.createTopic("many", Uuid.randomUuid(), 200, Map.of());
            assertThat(first.tail().bytes()).as("trimmed to its share once 202 shards share the bound").isLessThanOrEqualTo(brokerMax / 202);
            for (int p = 0; p < 200; p++) {
                Shard shard = logs.catalog().shard(new TopicPartition("many", p));
                for (int i = 0; i < 3; i++) {
                    append(logs, shard, 4 * 1024);
                }
            }
            long total = logs.catalog().shards().stream().mapToLong(s -> s.tail().bytes()).sum();
            assertThat(total).as("all tail caches together").isLessThanOrEqualTo(brokerMax);
            for (int p = 0; p < 200; p++) {
                Shard shard = logs.catalog().shard(new TopicPartition("many", p));
                java.util.List<byte[]> read = new java.util.ArrayList<>();
                logs.reader().readCopies(shard, 0, 1 << 20, true, read);
                assertThat(read).as("batches of shard %d read back", p).hasSize(3);
            }
        } finally {
            logs.close();
        }
    }

    private static void append(LogManager logs, Shard shard, int valueBytes) throws Exception {
        ByteBuffer buf = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(System.currentTimeMillis(), null, new byte[valueBytes])).buffer();
        byte[] batch = new byte[buf.remaining()];
        buf.get(batch);
        CompletableFuture<AppendResult> done = new CompletableFuture<>();
        logs.append(shard, batch, done::complete);
        assertThat(done.get(10, TimeUnit.SECONDS).error()).isEqualTo(Errors.NONE);
    }
}
