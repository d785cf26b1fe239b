package io.capstan.broker.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk space compaction frees goes back to the disk, not only out of the log's reads: RocksDB keeps a replaced value
 * until a compaction of its own reaches the file, so after a large cleaner pass the cleaner rewrites the shard's range.
 * Measured as RocksDB's table-file bytes, with incompressible values.
 */
class CompactionReclaimTest {
    /**
     * Batches inline in RocksDB: this is about its table files (with data files, compaction frees space by deleting the
     * files nothing refers to any more, DataFilesTest).
     */
    private static final Map<String, String> INLINE = Map.of("log.data.files", "false");
    private static final int KEYS = 1_000;
    private static final int VALUE_BYTES = 1_024;

    @TempDir
    Path dir;

    @Test
    void aShardWhoseHistoryCompactionRemovedShrinksOnDisk() throws Exception {
        try (LogManager logs = CompactionPropertyTest.open(dir, INLINE)) {
            Shard shard = CompactionPropertyTest.shardOf(logs);
            Map<String, ByteBuffer> latest = write(logs, shard, 20); // ~20 MiB written, ~1 MiB live
            logs.store().compactRange(LogKeys.shardStart(shard.key()), LogKeys.shardEnd(shard.key())); // all of it in table files
            long written = logs.store().logFileBytes();
            assertThat(written).as("table files before cleaning").isGreaterThan(18L << 20);

            assertThat(logs.runCleaner(System.currentTimeMillis())).isEqualTo(1);

            long after = logs.store().logFileBytes();
            assertThat(logs.cleanerStats().rangeRewrites()).isEqualTo(1);
            assertThat(after).as("table files after cleaning, of %d before", written).isLessThan(3L << 20);
            assertThat(logs.cleanerStats().bytesFreed()).as("counted in the metric").isGreaterThan(15L << 20);
            assertLatestOfEachKey(read(logs, shard), latest);
        }
    }

    @Test
    void aSmallPassLeavesTheFilesToRocksDb() throws Exception {
        try (LogManager logs = CompactionPropertyTest.open(dir, INLINE)) {
            Shard shard = CompactionPropertyTest.shardOf(logs);
            Map<String, ByteBuffer> latest = write(logs, shard, 2); // ~1 MiB replaced: below the 4 MiB threshold
            assertThat(logs.runCleaner(System.currentTimeMillis())).isEqualTo(1);
            assertThat(logs.cleanerStats().rangeRewrites()).isZero();
            assertLatestOfEachKey(read(logs, shard), latest);
        }
    }

    /** Every key written {@code rounds} times with a new random value, 100 records a batch; returns each key's last value. */
    private static Map<String, ByteBuffer> write(LogManager logs, Shard shard, int rounds) throws Exception {
        Random random = new Random(42);
        Map<String, ByteBuffer> latest = new HashMap<>();
        for (int round = 0; round < rounds; round++) {
            for (int first = 0; first < KEYS; first += 100) {
                SimpleRecord[] records = new SimpleRecord[100];
                for (int i = 0; i < 100; i++) {
                    byte[] value = new byte[VALUE_BYTES];
                    random.nextBytes(value);
                    String key = "key-" + (first + i);
                    latest.put(key, ByteBuffer.wrap(value));
                    records[i] = new SimpleRecord(System.currentTimeMillis(), key.getBytes(StandardCharsets.UTF_8), value);
                }
                ByteBuffer buf = MemoryRecords.withRecords(Compression.NONE, records).buffer();
                byte[] batch = new byte[buf.remaining()];
                buf.get(batch);
                CompletableFuture<AppendResult> done = new CompletableFuture<>();
                logs.append(shard, batch, done::complete);
                assertThat(done.get(10, TimeUnit.SECONDS).error()).isEqualTo(Errors.NONE);
            }
        }
        return latest;
    }

    /**
     * Each key's latest value is read last, and only the keys of the newest batch (never compacted, and so never used to
     * compact older ones, as Kafka's active segment) are read twice.
     */
    private static void assertLatestOfEachKey(Map<String, List<ByteBuffer>> read, Map<String, ByteBuffer> latest) {
        assertThat(read.keySet()).isEqualTo(latest.keySet());
        read.forEach((key, values) -> {
            assertThat(values.get(values.size() - 1)).as("latest value of %s", key).isEqualTo(latest.get(key));
            int index = Integer.parseInt(key.substring("key-".length()));
            assertThat(values).as("values of %s", key).hasSize(index >= KEYS - 100 ? 2 : 1);
        });
    }

    /** Each key's values in offset order, as the log reads now. */
    private static Map<String, List<ByteBuffer>> read(LogManager logs, Shard shard) {
        List<byte[]> batches = new ArrayList<>();
        logs.reader().readCopies(shard, shard.logStartOffset(), shard.logEnd(), Integer.MAX_VALUE, true, batches);
        Map<String, List<ByteBuffer>> seen = new HashMap<>();
        for (byte[] b : batches) {
            for (RecordBatch batch : MemoryRecords.readableRecords(ByteBuffer.wrap(b)).batches()) {
                for (Record r : batch) {
                    seen.computeIfAbsent(StandardCharsets.UTF_8.decode(r.key()).toString(), k -> new ArrayList<>()).add(r.value());
                }
            }
        }
        return seen;
    }
}
