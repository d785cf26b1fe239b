package io.capstan.broker.log;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.config.BrokerConfig;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cleaner's timing settings through a real log: min.compaction.lag.ms keeps recent records, the dirty ratio holds a
 * pass back until max.compaction.lag.ms forces it, and a topic switched from delete to compact is compacted with
 * retention no longer applied.
 */
class CompactionLagTest {
    private static final long NOW = 10_000_000;

    @TempDir
    Path dir;

    @Test
    void recordsYoungerThanTheMinimumLagStay() throws Exception {
        try (LogManager logs = open(Map.of("cleanup.policy", "compact", "min.cleanable.dirty.ratio", "0", "min.compaction.lag.ms", "60000"))) {
            Shard shard = shard(logs);
            append(logs, shard, "k", "old", NOW - 120_000);
            append(logs, shard, "k", "older-than-lag", NOW - 90_000);
            append(logs, shard, "k", "recent", NOW - 30_000);
            append(logs, shard, "k", "newest", NOW - 1_000);
            logs.runCleaner(NOW);
            assertThat(values(logs, shard)).as("only the record past the lag and superseded within it goes")
                    .containsExactly("older-than-lag", "recent", "newest");
            logs.runCleaner(NOW + 60_000);
            assertThat(values(logs, shard)).as("a minute later 'recent' is past the lag and supersedes; the newest batch is never"
                    + " compacted (nor mapped), so 'recent' stays as the latest below it").containsExactly("recent", "newest");
        }
    }

    @Test
    void aDirtyRatioBelowTheThresholdWaitsUntilTheMaximumLag() throws Exception {
        try (LogManager logs = open(Map.of("cleanup.policy", "compact", "min.cleanable.dirty.ratio", "0.99",
                "max.compaction.lag.ms", "3600000"))) {
            Shard shard = shard(logs);
            append(logs, shard, "k", "a", NOW - 1_000);
            append(logs, shard, "k", "b", NOW - 1_000);
            append(logs, shard, "other", "c", NOW - 1_000);
            logs.runCleaner(NOW);
            assertThat(values(logs, shard)).as("the first pass: everything is dirty (ratio 1)").containsExactly("b", "c");
            append(logs, shard, "k", "d", NOW - 500);
            append(logs, shard, "z", "e", NOW - 500);
            assertThat(logs.runCleaner(NOW)).as("dirty ratio below 0.99: not due").isZero();
            assertThat(values(logs, shard)).containsExactly("b", "c", "d", "e");
            assertThat(logs.runCleaner(NOW + 3_600_000)).as("its oldest dirty batch is past max.compaction.lag.ms").isEqualTo(1);
            assertThat(values(logs, shard)).containsExactly("c", "d", "e");
        }
    }

    @Test
    void aTopicSwitchedToCompactIsCompactedAndNoLongerTrimmedByRetention() throws Exception {
        try (LogManager logs = open(Map.of("retention.ms", "1000"))) {
            Shard shard = shard(logs);
            append(logs, shard, "k", "a", NOW - 5_000);
            append(logs, shard, "k", "b", NOW - 5_000);
            append(logs, shard, "j", "c", NOW - 5_000);
            assertThat(logs.runCleaner(NOW)).as("delete policy: the cleaner leaves it alone").isZero();
            logs.catalog().reconfigure("t", Map.of("retention.ms", "1000", "cleanup.policy", "compact", "min.cleanable.dirty.ratio", "0"));
            logs.runRetention(NOW);
            assertThat(values(logs, shard)).as("compact alone: retention.ms does not apply").containsExactly("a", "b", "c");
            logs.runCleaner(NOW);
            assertThat(values(logs, shard)).containsExactly("b", "c");
            logs.catalog().reconfigure("t", Map.of("retention.ms", "1000", "cleanup.policy", "compact,delete"));
            logs.runRetention(NOW);
            assertThat(values(logs, shard)).as("compact,delete: retention applies again, keeping the newest batch").containsExactly("c");
        }
    }

    private LogManager open(Map<String, String> topicConfigs) {
        LogManager logs = new LogManager(BrokerConfig.from(Map.of("data.dir", dir.toString(), "disk.min.free.bytes", "0",
                "log.cleaner.enable", "false", "log.message.timestamp.after.max.ms", "9223372036854775807")),
                CommitListener.NONE, CommitStats.NONE, FatalErrorHandler.haltProcess());
        logs.createTopic("t", org.apache.kafka.common.Uuid.randomUuid(), 1, topicConfigs);
        return logs;
    }

    private static Shard shard(LogManager logs) {
        return logs.catalog().shard(new TopicPartition("t", 0));
    }

    private static void append(LogManager logs, Shard shard, String key, String value, long timestamp) throws Exception {
        ByteBuffer buf = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(timestamp, key.getBytes(StandardCharsets.UTF_8),
                value.getBytes(StandardCharsets.UTF_8))).buffer();
        byte[] batch = new byte[buf.remaining()];
        buf.get(batch);
        CompletableFuture<AppendResult> done = new CompletableFuture<>();
        logs.append(shard, batch, done::complete);
        assertThat(done.get(10, TimeUnit.SECONDS).error()).isEqualTo(org.apache.kafka.common.protocol.Errors.NONE);
    }

    private static List<String> values(LogManager logs, Shard shard) {
        List<byte[]> batches = new ArrayList<>();
        logs.reader().readCopies(shard, shard.logStartOffset(), shard.logEnd(), Integer.MAX_VALUE, true, batches);
        List<String> out = new ArrayList<>();
        for (byte[] b : batches) {
            for (RecordBatch batch : MemoryRecords.readableRecords(ByteBuffer.wrap(b)).batches()) {
                for (Record r : batch) {
                    out.add(StandardCharsets.UTF_8.decode(r.value()).toString());
                }
            }
        }
        return out;
    }
}
