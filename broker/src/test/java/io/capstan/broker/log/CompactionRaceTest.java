package io.capstan.broker.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksIterator;

/**
 * The cleaner plans from a read of the log and the committer applies the plan later: whatever happened between must
 * win. A batch retention dropped meanwhile is not written back; a plan made before the log's end was cut is void.
 */
class CompactionRaceTest {
    @TempDir
    Path dir;

    @Test
    void aRewriteOfABatchRetentionDroppedMeanwhileIsNotWrittenBack() throws Exception {
        try (LogManager logs = CompactionPropertyTest.open(dir)) {
            Shard shard = CompactionPropertyTest.shardOf(logs);
            List<byte[]> batches = appendFour(logs, shard);
            int incarnation = shard.incarnation();
            // queued back to back, so usually in one round: the truncation first, then the stale plan
            CompletableFuture<Void> truncated = logs.appender().truncate(shard, 2, batches.get(0).length + batches.get(1).length);
            CompletableFuture<Boolean> compacted = logs.appender().compact(shard, incarnation,
                    List.of(rewrite(batches.get(0)), rewrite(batches.get(1)), rewrite(batches.get(2))), null);
            truncated.get(10, TimeUnit.SECONDS);
            assertThat(compacted.get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(storedBases(logs, shard)).as("batches 0 and 1 stay dropped; 2 was rewritten").containsExactly(2L, 3L);
            assertThat(shard.sizeBytes()).isEqualTo(batches.get(2).length + batches.get(3).length);

            // and in a later round than the truncation
            logs.appender().truncate(shard, 3, batches.get(2).length).get(10, TimeUnit.SECONDS);
            assertThat(logs.appender().compact(shard, incarnation, List.of(rewrite(batches.get(2))), null).get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(storedBases(logs, shard)).containsExactly(3L);
            assertThat(shard.logStartOffset()).isEqualTo(3);
        }
    }

    @Test
    void aPlanMadeBeforeTheEndWasCutIsVoid() throws Exception {
        try (LogManager logs = CompactionPropertyTest.open(dir)) {
            Shard shard = CompactionPropertyTest.shardOf(logs);
            List<byte[]> batches = appendFour(logs, shard);
            int incarnation = shard.incarnation();
            logs.truncateEnd(shard, 2).get(10, TimeUnit.SECONDS);
            assertThat(shard.incarnation()).isNotEqualTo(incarnation);
            CompletableFuture<Boolean> stale = logs.appender().compact(shard, incarnation,
                    List.of(new LogCommand.Rewrite(0, 0, batches.get(0).length, BatchCompactor.REMOVED)), new CleanPoint(2, 1, CleanPoint.NO_TOMBSTONES));
            assertThat(stale.get(10, TimeUnit.SECONDS)).as("applied").isFalse();
            assertThat(storedBases(logs, shard)).containsExactly(0L, 1L);
            assertThat(shard.cleanPoint()).isEqualTo(CleanPoint.NONE);
        }
    }

    private static LogCommand.Rewrite rewrite(byte[] batch) {
        long base = ByteBuffer.wrap(batch).getLong(BatchHeader.BASE_OFFSET);
        return new LogCommand.Rewrite(base, base, batch.length, batch.clone());
    }

    private static List<byte[]> appendFour(LogManager logs, Shard shard) throws Exception {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ByteBuffer buf = MemoryRecords.withRecords(Compression.NONE,
                    new SimpleRecord(1L, "k".getBytes(StandardCharsets.UTF_8), ("v" + i).getBytes(StandardCharsets.UTF_8))).buffer();
            byte[] batch = new byte[buf.remaining()];
            buf.get(batch);
            CompletableFuture<AppendResult> done = new CompletableFuture<>();
            logs.append(shard, batch, done::complete);
            assertThat(done.get(10, TimeUnit.SECONDS).baseOffset()).isEqualTo(i);
            out.add(batch); // stamped in place with its offset
        }
        return out;
    }

    private static List<Long> storedBases(LogManager logs, Shard shard) {
        List<Long> bases = new ArrayList<>();
        try (LogStore.RangeIterator range = logs.store().iterate(logs.store().logFamily(), LogKeys.shardStart(shard.key()), LogKeys.shardEnd(shard.key()))) {
            RocksIterator it = range.it();
            for (it.seekToFirst(); it.isValid(); it.next()) {
                bases.add(LogKeys.offset(it.key()));
            }
        }
        return bases;
    }
}
