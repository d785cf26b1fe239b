package io.capstan.broker.log;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.config.BrokerConfig;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;

/**
 * Compaction over random keyed histories with tombstones, on real RocksDB: after a pass every key's latest record is
 * there at its offset and no older record of a mapped key is; records keep their offsets, keys and values; tombstones
 * go once delete.retention.ms has passed since the pass that first saw them; the result survives a restart; a
 * follower that copied the log before the leader compacted and compacts it with the same clock holds the same bytes;
 * one that copies the compacted log accepts its gaps and holds the leader's bytes.
 */
class CompactionPropertyTest {
    private static final long DELETE_RETENTION_MS = 60_000;
    private static final long T1 = 1_000_000;

    /** One record written: a key and a value, or a tombstone (null value). */
    record Write(String key, String value) {}

    /** A history: batches of writes, each batch compressed or not. */
    record History(List<List<Write>> batches, boolean gzip) {}

    /** A record as a reader sees it. */
    record Seen(long offset, String key, String value) {}

    @Property(tries = 25)
    void compactionKeepsTheLatestOfEachKeyAtItsOffset(@ForAll("histories") History history) throws Exception {
        Path dir = Files.createTempDirectory("compaction");
        try {
            check(history, dir);
        } finally {
            deleteAll(dir);
        }
    }

    private void check(History history, Path dir) throws Exception {
        Map<Long, Write> written = new HashMap<>();
        List<byte[]> raw;
        List<Seen> afterFirst;
        List<Seen> afterSecond;
        List<byte[]> leaderBytes;
        long mapEnd;
        try (LogManager leader = open(dir.resolve("leader"))) {
            Shard shard = shardOf(leader);
            for (List<Write> batch : history.batches()) {
                long base = append(leader, shard, batch(batch, history.gzip()));
                for (int i = 0; i < batch.size(); i++) {
                    written.put(base + i, batch.get(i));
                }
            }
            raw = batches(leader, shard);
            mapEnd = baseOf(raw.get(raw.size() - 1)); // everything but the newest batch is compacted

            leader.runCleaner(T1);
            afterFirst = read(leader, shard);
            assertLatestOfEachKey(afterFirst, written, mapEnd, 0);
            // not necessarily smaller: a batch whose tombstones get their delete horizon may grow by a few bytes, as in Kafka
            assertThat(shard.sizeBytes()).as("the byte count follows the rewrites").isEqualTo(sum(batches(leader, shard)));
            assertThat(shard.logStartOffset()).isZero();

            // dirty again (one more batch), and past every horizon the first pass stamped: its tombstones go
            long extra = append(leader, shard, batch(List.of(new Write("extra", "x")), false));
            written.put(extra, new Write("extra", "x"));
            leader.runCleaner(T1 + DELETE_RETENTION_MS + 1);
            afterSecond = read(leader, shard);
            // tombstones the first pass stamped are due now; those it did not reach (the newest batch) were just stamped
            assertLatestOfEachKey(afterSecond, written, extra, mapEnd);
            leaderBytes = batches(leader, shard);
        }
        try (LogManager reopened = open(dir.resolve("leader"))) {
            Shard shard = shardOf(reopened);
            assertThat(read(reopened, shard)).as("compaction survives a restart").isEqualTo(afterSecond);
            assertThat(shard.logStartOffset()).as("removing the first batches does not move the log start").isZero();
            assertThat(shard.logEnd()).isEqualTo(afterSecond.get(afterSecond.size() - 1).offset() + 1);
        }

        // a follower that copied the log before the leader compacted compacts it to the same bytes
        try (LogManager follower = open(dir.resolve("follower-early"))) {
            Shard shard = shardOf(follower);
            copy(follower, shard, raw);
            follower.runCleaner(T1);
            assertThat(read(follower, shard)).isEqualTo(afterFirst);
            append(follower, shard, batch(List.of(new Write("extra", "x")), false));
            follower.runCleaner(T1 + DELETE_RETENTION_MS + 1);
            assertThat(batches(follower, shard)).as("same history, same clock: the same bytes").containsExactlyElementsOf(leaderBytes);
        }
        // one that copies only after the leader compacted gets batches with gaps between them, and accepts them
        try (LogManager follower = open(dir.resolve("follower-late"))) {
            Shard shard = shardOf(follower);
            copy(follower, shard, leaderBytes);
            assertThat(read(follower, shard)).isEqualTo(afterSecond);
            assertThat(batches(follower, shard)).containsExactlyElementsOf(leaderBytes);
        }
    }

    /**
     * Below {@code mapEnd} each record is its key's latest there (so every key's latest is present, and nothing older),
     * tombstones only from {@code tombstonesFrom} on; from {@code mapEnd} on, everything written is present. Every record
     * read is exactly what was written at its offset.
     */
    private static void assertLatestOfEachKey(List<Seen> seen, Map<Long, Write> written, long mapEnd, long tombstonesFrom) {
        Map<String, Long> latest = new HashMap<>();
        written.forEach((offset, w) -> {
            if (offset < mapEnd) {
                latest.merge(w.key(), offset, Math::max);
            }
        });
        List<Seen> expected = new ArrayList<>();
        written.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            long offset = e.getKey();
            Write w = e.getValue();
            boolean kept = offset >= mapEnd || (latest.get(w.key()) == offset && (w.value() != null || offset >= tombstonesFrom));
            if (kept) {
                expected.add(new Seen(offset, w.key(), w.value()));
            }
        });
        assertThat(seen).as("records after compaction below offset %d", mapEnd).containsExactlyElementsOf(expected);
    }

    private static void copy(LogManager follower, Shard shard, List<byte[]> batches) throws Exception {
        long end = 0;
        for (byte[] b : batches) {
            CompletableFuture<AppendResult> done = new CompletableFuture<>();
            follower.appendFromLeader(shard, b.clone(), end, done::complete);
            AppendResult result = done.get(10, TimeUnit.SECONDS);
            assertThat(result.error()).as(result.message()).isEqualTo(Errors.NONE);
            end = ByteBuffer.wrap(b).getLong(BatchHeader.BASE_OFFSET) + ByteBuffer.wrap(b).getInt(BatchHeader.LAST_OFFSET_DELTA) + 1;
        }
    }

    private static List<Seen> read(LogManager logs, Shard shard) {
        List<Seen> out = new ArrayList<>();
        for (byte[] b : batches(logs, shard)) {
            for (RecordBatch batch : MemoryRecords.readableRecords(ByteBuffer.wrap(b)).batches()) {
                for (Record r : batch) {
                    out.add(new Seen(r.offset(), string(r.key()), r.hasValue() ? string(r.value()) : null));
                }
            }
        }
        return out;
    }

    private static List<byte[]> batches(LogManager logs, Shard shard) {
        List<byte[]> out = new ArrayList<>();
        logs.reader().readCopies(shard, shard.logStartOffset(), shard.logEnd(), Integer.MAX_VALUE, true, out);
        return out;
    }

    private static long sum(List<byte[]> batches) {
        return batches.stream().mapToLong(b -> b.length).sum();
    }

    private static long baseOf(byte[] batch) {
        return ByteBuffer.wrap(batch).getLong(BatchHeader.BASE_OFFSET);
    }

    private static String string(ByteBuffer b) {
        return b == null ? null : StandardCharsets.UTF_8.decode(b.duplicate()).toString();
    }

    private static byte[] batch(List<Write> writes, boolean gzip) {
        SimpleRecord[] records = new SimpleRecord[writes.size()];
        for (int i = 0; i < writes.size(); i++) {
            Write w = writes.get(i);
            records[i] = new SimpleRecord(T1 - 10_000 + i, w.key().getBytes(StandardCharsets.UTF_8),
                    w.value() == null ? null : w.value().getBytes(StandardCharsets.UTF_8));
        }
        ByteBuffer buf = MemoryRecords.withRecords(gzip ? Compression.gzip().build() : Compression.NONE, records).buffer();
        byte[] bytes = new byte[buf.remaining()];
        buf.get(bytes);
        return bytes;
    }

    private static long append(LogManager logs, Shard shard, byte[] batch) throws Exception {
        CompletableFuture<AppendResult> done = new CompletableFuture<>();
        logs.append(shard, batch, done::complete);
        AppendResult result = done.get(10, TimeUnit.SECONDS);
        assertThat(result.error()).isEqualTo(Errors.NONE);
        return result.baseOffset();
    }

    static LogManager open(Path data) {
        return open(data, Map.of());
    }

    static LogManager open(Path data, Map<String, String> extra) {
        Map<String, String> settings = new java.util.HashMap<>(Map.of("data.dir", data.toString(), "disk.min.free.bytes", "0",
                "log.cleaner.enable", "false", "log.cleaner.dedupe.buffer.size", "1048576"));
        settings.putAll(extra);
        LogManager logs = new LogManager(BrokerConfig.from(settings), CommitListener.NONE, CommitStats.NONE, FatalErrorHandler.haltProcess());
        if (logs.catalog().topic("t") == null) {
            logs.createTopic("t", org.apache.kafka.common.Uuid.randomUuid(), 1, Map.of("cleanup.policy", "compact",
                    "delete.retention.ms", String.valueOf(DELETE_RETENTION_MS), "min.cleanable.dirty.ratio", "0"));
        }
        return logs;
    }

    static Shard shardOf(LogManager logs) {
        return logs.catalog().shard(new TopicPartition("t", 0));
    }

    @Provide
    Arbitrary<History> histories() {
        Arbitrary<Write> write = Combinators.combine(Arbitraries.of("a", "b", "c", "d", "e", "f", "g"),
                Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(6).injectNull(0.2)).as(Write::new);
        Arbitrary<List<Write>> batch = write.list().ofMinSize(1).ofMaxSize(5);
        return Combinators.combine(batch.list().ofMinSize(2).ofMaxSize(15), Arbitraries.of(true, false)).as(History::new);
    }

    private static void deleteAll(Path dir) throws java.io.IOException {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
