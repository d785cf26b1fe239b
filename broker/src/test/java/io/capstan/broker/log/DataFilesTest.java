package io.capstan.broker.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.config.BrokerConfig;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksIterator;

/**
 * The log with {@code log.data.files} on (decision 0027), on real RocksDB and real files: batches of 512 bytes or more
 * live in data files with only a reference in RocksDB, read back byte for byte; files go once nothing refers to them;
 * a tail whose bytes a crash lost is cut with the producer state that came with it; a damaged batch is reported, not
 * served.
 */
class DataFilesTest {
    @TempDir
    Path dir;

    private LogManager open(Map<String, String> extra) {
        Map<String, String> settings = new HashMap<>(Map.of("data.dir", dir.toString(), "disk.min.free.bytes", "0",
                "log.data.files", "true", "log.data.file.bytes", "65536", "log.segment.delete.delay.ms", "0",
                // every read goes to the store, not to the tail cache
                "tail.cache.bytes.per.shard", "0"));
        settings.putAll(extra);
        LogManager logs = new LogManager(BrokerConfig.from(settings), CommitListener.NONE, CommitStats.NONE,
                (message, cause) -> { throw new AssertionError("fatal: " + message, cause); });
        if (logs.catalog().topic("t") == null) {
            logs.createTopic("t", Uuid.randomUuid(), 1, Map.of());
        }
        return logs;
    }

    @Test
    void largeBatchesLiveInDataFilesAndReadBackByteForByteWhileSmallOnesStayInline() throws Exception {
        Map<Long, byte[]> written = new HashMap<>();
        try (LogManager logs = open(Map.of())) {
            Shard shard = LogFixture.shardOf(logs);
            Random random = new Random(1);
            for (int i = 0; i < 60; i++) {
                byte[] batch = batch(random, i % 3 == 0 ? 20 : 3_000, -1, 0);
                AppendResult r = LogFixture.append(logs, shard, batch);
                assertThat(r.error()).isEqualTo(Errors.NONE);
                written.put(r.baseOffset(), batch);
            }
            assertThat(logs.store().formatVersion()).as("a store with data files frames its rounds there: format 3").isEqualTo(LogStore.ROUNDS_FORMAT);
            assertThat(dataFiles()).as("rolled at 64 KiB").hasSizeGreaterThan(1);
        }
        try (LogManager logs = open(Map.of())) {
            Shard shard = LogFixture.shardOf(logs);
            int references = 0;
            int inline = 0;
            try (LogStore.RangeIterator range = logs.store().iterate(logs.store().logFamily(), LogKeys.shardStart(shard.key()),
                    LogKeys.shardEnd(shard.key()))) {
                RocksIterator it = range.it();
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    byte[] value = it.value();
                    int length = BatchRef.batchLength(value);
                    if (BatchRef.is(value)) {
                        references++;
                        assertThat(length).isGreaterThanOrEqualTo(DataFiles.MIN_BATCH_BYTES);
                    } else {
                        inline++;
                        assertThat(value).hasSize(length).hasSizeLessThan(DataFiles.MIN_BATCH_BYTES);
                    }
                }
            }
            assertThat(references).isEqualTo(40);
            assertThat(inline).isEqualTo(20);
            assertEachBatch(logs, shard, written);
        }
    }

    @Test
    void timestampLookupsReadTheRecordsOfBatchesInDataFiles() throws Exception {
        long base = 1_700_000_000_000L;
        try (LogManager logs = open(Map.of())) {
            Shard shard = LogFixture.shardOf(logs);
            Random random = new Random(9);
            for (int b = 0; b < 20; b++) {
                SimpleRecord[] records = new SimpleRecord[10];
                for (int i = 0; i < records.length; i++) {
                    byte[] value = new byte[300];
                    random.nextBytes(value);
                    records[i] = new SimpleRecord(base + b * 10 + i, ("k" + i).getBytes(), value);
                }
                ByteBuffer buf = MemoryRecords.withRecords(Compression.NONE, records).buffer();
                byte[] batch = new byte[buf.remaining()];
                buf.get(batch);
                assertThat(LogFixture.append(logs, shard, batch).error()).isEqualTo(Errors.NONE);
            }
            // ListOffsets by timestamp and for the largest timestamp read records inside the batches, not only headers
            assertThat(logs.reader().offsetForTimestamp(shard, base + 55)).containsExactly(55, base + 55);
            assertThat(logs.reader().maxTimestamp(shard)).containsExactly(199, base + 199);
        }
    }

    @Test
    void aFileGoesOnceRetentionDroppedEveryBatchInItAndTheRestStaysReadable() throws Exception {
        Map<Long, byte[]> written = new HashMap<>();
        try (LogManager logs = open(Map.of())) {
            Shard shard = LogFixture.shardOf(logs);
            written.putAll(appendLarge(logs, shard, new Random(2), 100));
            List<Path> before = dataFiles();
            assertThat(before).hasSizeGreaterThan(3);
            long cut = 600; // ten records a batch: sixty batches
            logs.truncateBefore(shard, cut).get();
            written.keySet().removeIf(offset -> offset < cut);
            // the first files held only batches below the cut; the deletion runs once the drop is synced (delay 0 here)
            Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(dataFiles()).as("files after the cut").hasSizeLessThan(before.size()).contains(before.get(before.size() - 1)));
            assertThat(dataFiles()).doesNotContain(before.get(0));
            assertEachBatch(logs, shard, written);
        }
        try (LogManager logs = open(Map.of())) {
            assertEachBatch(logs, LogFixture.shardOf(logs), written);
        }
    }

    /**
     * Two shards share every file: "t" keeps its batches, "s" is truncated away. Each file is then mostly dead but not
     * unreferenced; reclaiming moves t's batches to the newest file, and the old files go.
     */
    @Test
    void mostlyDeadFilesAreReclaimedAndEveryLiveBatchStaysReadable() throws Exception {
        Map<Long, byte[]> kept = new HashMap<>();
        List<Path> shared;
        try (LogManager logs = open(Map.of())) {
            logs.createTopic("s", Uuid.randomUuid(), 1, Map.of());
            Shard t = LogFixture.shardOf(logs);
            Shard s = logs.catalog().shard(new TopicPartition("s", 0));
            interleave(logs, t, s, kept, new Random(5), 120);
            shared = dataFiles();
            assertThat(shared).hasSizeGreaterThan(3);
            logs.truncateBefore(s, s.logEnd()).get();
            long onDisk = bytes(shared);
            int inClosedFiles = kept.size() - batchesIn(logs, t, last(shared));

            int moved = 0;
            for (int pass = logs.reclaimDataFiles(); pass > 0; pass = logs.reclaimDataFiles()) {
                moved += pass;
            }
            // the file appended to when reclaiming began may fill, close, and be reclaimed in turn: some batches move twice
            assertThat(moved).as("every batch of t that was in a closed file moved").isGreaterThanOrEqualTo(inClosedFiles);
            Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(dataFiles()).as("the closed files, reclaimed").doesNotContainAnyElementsOf(shared.subList(0, shared.size() - 1)));
            assertThat(bytes(dataFiles())).as("bytes on disk: t's batches, not every batch").isLessThan(onDisk / 2);
            long[] stats = logs.dataFileStats();
            assertThat(stats[1]).as("live bytes: every kept batch of t, nothing of s")
                    .isEqualTo(kept.values().stream().mapToLong(b -> b.length).sum());
            assertThat(stats[0]).as("bytes on disk, as counted").isEqualTo(bytes(dataFiles())).isGreaterThanOrEqualTo(stats[1]);
            assertThat(stats[2]).as("files reclaimed").isGreaterThanOrEqualTo(shared.size() - 1L);
            assertThat(stats[3]).as("bytes handed over to move").isGreaterThanOrEqualTo((long) inClosedFiles * 3_000);
            assertEachBatch(logs, t, kept);
            assertThat(logs.reclaimDataFiles()).as("nothing left to reclaim").isZero();
        }
        try (LogManager logs = open(Map.of())) {
            assertEachBatch(logs, LogFixture.shardOf(logs), kept);
        }
    }

    /** After a large deletion every file past the ratio goes in one check, its reads held to the cleaner's byte rate. */
    @Test
    void oneCheckReclaimsEveryMostlyDeadFileNoFasterThanTheCleanersRate() throws Exception {
        int rate = 10_000; // about 8 s for what moves here: well above the unthrottled time even on a loaded machine
        try (LogManager logs = open(Map.of("log.cleaner.io.max.bytes.per.second", String.valueOf(rate)))) {
            logs.createTopic("s", Uuid.randomUuid(), 1, Map.of());
            Shard t = LogFixture.shardOf(logs);
            Shard s = logs.catalog().shard(new TopicPartition("s", 0));
            Map<Long, byte[]> kept = new HashMap<>();
            interleave(logs, t, s, kept, new Random(7), 120);
            List<Path> shared = dataFiles();
            assertThat(shared).hasSizeGreaterThan(3);
            logs.truncateBefore(s, s.logEnd()).get();

            long start = System.nanoTime();
            assertThat(logs.reclaimDataFiles()).isPositive();
            long elapsedMs = (System.nanoTime() - start) / 1_000_000;
            long[] stats = logs.dataFileStats();
            assertThat(stats[2]).as("files reclaimed by the one check: every closed one").isGreaterThanOrEqualTo(shared.size() - 1L);
            assertThat(elapsedMs).as("%d bytes read at no more than %d bytes a second", stats[3], rate)
                    .isGreaterThanOrEqualTo(stats[3] * 1000 / rate * 3 / 4);
            assertEachBatch(logs, t, kept);
        }
    }

    @Test
    void aFileLessDeadThanTheReclaimRatioIsLeftAlone() throws Exception {
        try (LogManager logs = open(Map.of("log.data.file.reclaim.ratio", "0.9"))) {
            logs.createTopic("s", Uuid.randomUuid(), 1, Map.of());
            Shard t = LogFixture.shardOf(logs);
            Shard s = logs.catalog().shard(new TopicPartition("s", 0));
            Map<Long, byte[]> kept = new HashMap<>();
            interleave(logs, t, s, kept, new Random(6), 60);
            List<Path> before = dataFiles();
            logs.truncateBefore(s, s.logEnd()).get(); // three quarters of each file dead: under 0.9
            assertThat(logs.reclaimDataFiles()).isZero();
            assertThat(dataFiles()).isEqualTo(before);
            assertEachBatch(logs, t, kept);
        }
    }

    /**
     * Reclaiming on its own thread while retention cuts the kept shard and new batches arrive: what is read back is
     * exactly what was kept each time, and once everything is dropped every closed file goes (the counts of live bytes
     * stay right). Whether a cut lands between a scan and its move here is up to the threads; the next two tests force it.
     */
    @Test
    void reclaimingRacingTruncationNeitherBringsBatchesBackNorKeepsFiles() throws Exception {
        try (LogManager logs = open(Map.of("log.data.file.reclaim.ratio", "0.3"))) {
            logs.createTopic("s", Uuid.randomUuid(), 1, Map.of());
            Shard t = LogFixture.shardOf(logs);
            Shard s = logs.catalog().shard(new TopicPartition("s", 0));
            Map<Long, byte[]> kept = new HashMap<>();
            Random random = new Random(7);
            java.util.concurrent.ExecutorService reclaiming = java.util.concurrent.Executors.newSingleThreadExecutor();
            try {
                for (int round = 0; round < 8; round++) {
                    interleave(logs, t, s, kept, random, 40);
                    logs.truncateBefore(s, s.logEnd()).get();
                    java.util.concurrent.Future<Integer> reclaim = reclaiming.submit(logs::reclaimDataFiles);
                    long cut = t.logEnd() - 50; // t's older half goes while its batches may be moving
                    long boundary = kept.keySet().stream().filter(o -> o <= cut).max(Long::compare).orElse(0L);
                    logs.truncateBefore(t, boundary).get();
                    kept.keySet().removeIf(o -> o < boundary);
                    reclaim.get();
                    assertEachBatch(logs, t, kept);
                }
                logs.truncateBefore(t, t.logEnd()).get();
                Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
                        assertThat(dataFiles()).as("every file with no live batch went; only the one being appended to stays").hasSize(1));
            } finally {
                reclaiming.shutdownNow();
            }
        }
    }

    @Test
    void aBatchDroppedBetweenTheScanAndTheMoveIsNotBroughtBack() throws Exception {
        try (LogManager logs = open(Map.of())) {
            Scanned scanned = scanMostlyDead(logs, new Random(8));
            logs.truncateBefore(scanned.t(), scanned.t().logEnd()).get(); // after the scan, before the move
            assertThat(logs.appender().relocate(scanned.moves()).get()).as("batches moved").isZero();
            assertThat(read(logs, scanned.t())).as("t after the move").isEmpty();
            Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(logs.store().dataFiles().exists(scanned.file())).as("the scanned file, unreferenced").isFalse());
        }
    }

    /**
     * The move and a truncation of its batches queued back to back, in both orders: usually one committer round, where
     * the store still shows the old references to whichever comes second. Nothing comes back and no file is kept.
     */
    @Test
    void aMoveAndADropOfTheSameBatchesQueuedTogetherLeaveNothingBehind() throws Exception {
        for (boolean moveFirst : new boolean[] {true, false}) {
            try (LogManager logs = open(Map.of())) {
                Scanned scanned = scanMostlyDead(logs, new Random(moveFirst ? 9 : 10));
                java.util.concurrent.CompletableFuture<Integer> moved;
                java.util.concurrent.CompletableFuture<Void> cut;
                Shard t = scanned.t();
                long droppedBytes = logs.reader().bytesBefore(t, t.logEnd()); // read first: the two go in back to back
                if (moveFirst) {
                    moved = logs.appender().relocate(scanned.moves());
                    cut = logs.appender().truncate(t, t.logEnd(), droppedBytes);
                } else {
                    cut = logs.appender().truncate(t, t.logEnd(), droppedBytes);
                    moved = logs.appender().relocate(scanned.moves());
                }
                cut.get();
                moved.get();
                assertThat(read(logs, scanned.t())).as("t, move first: " + moveFirst).isEmpty();
                // the moved copies went to the file being appended to: past a roll it must go too
                for (int i = 0; i < 30; i++) {
                    assertThat(LogFixture.append(logs, scanned.s(), batch(new Random(i), 3_000, -1, 0)).error()).isEqualTo(Errors.NONE);
                }
                logs.truncateBefore(scanned.s(), scanned.s().logEnd()).get();
                Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
                        assertThat(dataFiles()).as("only the file being appended to stays, move first: " + moveFirst).hasSize(1));
            }
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    private record Scanned(Shard t, Shard s, int file, List<LogCommand.Move> moves) {}

    /** t and s interleaved, s truncated; the most dead file's references scanned and its batches read, as a reclaim does. */
    private Scanned scanMostlyDead(LogManager logs, Random random) throws Exception {
        logs.createTopic("s", Uuid.randomUuid(), 1, Map.of());
        Shard t = LogFixture.shardOf(logs);
        Shard s = logs.catalog().shard(new TopicPartition("s", 0));
        interleave(logs, t, s, new HashMap<>(), random, 60);
        logs.truncateBefore(s, s.logEnd()).get();
        // more of s afterwards, so that what is appended to and what goes are different files
        for (int i = 0; i < 30; i++) {
            assertThat(LogFixture.append(logs, s, batch(random, 3_000, -1, 0)).error()).isEqualTo(Errors.NONE);
        }
        int file = logs.store().dataFiles().mostlyDead(0.5);
        assertThat(file).as("a mostly dead file").isNotNegative();
        List<LogCommand.Move> moves = new ArrayList<>();
        for (LogStore.Reference r : logs.store().referencesInto(file)) {
            moves.add(new LogCommand.Move(r.key(), r.ref(), logs.store().dataFiles().read(r.ref())));
        }
        assertThat(moves).as("t's batches in it").isNotEmpty();
        return new Scanned(t, s, file, moves);
    }

    private static List<byte[]> read(LogManager logs, Shard shard) {
        List<byte[]> read = new ArrayList<>();
        logs.reader().readCopies(shard, shard.logStartOffset(), shard.logEnd(), Integer.MAX_VALUE, true, read);
        return read;
    }

    /** Appends {@code count} large batches to s and, every fourth, one to t, so the two share every file. */
    private static void interleave(LogManager logs, Shard t, Shard s, Map<Long, byte[]> keptOfT, Random random, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            assertThat(LogFixture.append(logs, s, batch(random, 3_000, -1, 0)).error()).isEqualTo(Errors.NONE);
            if (i % 4 == 0) {
                byte[] batch = batch(random, 3_000, -1, 0);
                AppendResult r = LogFixture.append(logs, t, batch);
                assertThat(r.error()).isEqualTo(Errors.NONE);
                keptOfT.put(r.baseOffset(), batch);
            }
        }
    }

    private static int batchesIn(LogManager logs, Shard shard, Path file) throws Exception {
        int id = Integer.parseInt(file.getFileName().toString().replace(".batches", ""));
        return (int) logs.store().referencesInto(id).stream().filter(r -> java.nio.ByteBuffer.wrap(r.key()).getInt(0) == shard.key()).count();
    }

    private static Path last(List<Path> files) {
        return files.get(files.size() - 1);
    }

    private static long bytes(List<Path> files) throws java.io.IOException {
        long total = 0;
        for (Path p : files) {
            if (Files.exists(p)) {
                total += Files.size(p);
            }
        }
        return total;
    }

    @Test
    void deletingTheTopicDeletesItsFiles() throws Exception {
        try (LogManager logs = open(Map.of())) {
            Shard shard = LogFixture.shardOf(logs);
            appendLarge(logs, shard, new Random(3), 50);
            List<Path> before = dataFiles();
            logs.deleteTopic("t").get();
            Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(dataFiles()).as("only the file being appended to is left").hasSize(1).doesNotContainAnyElementsOf(
                            before.subList(0, before.size() - 1)));
        }
    }

    @Test
    void aTailWhoseBytesACrashLostIsCutWithTheProducerStateThatCameWithIt() throws Exception {
        long producerId = 7;
        Map<Long, byte[]> written = new HashMap<>();
        byte[] lostBatch;
        int shardKey;
        long lostAt;
        int lostIn;
        try (LogManager logs = open(Map.of())) {
            Shard shard = LogFixture.shardOf(logs);
            shardKey = shard.key();
            Random random = new Random(4);
            for (int i = 0; i < 5; i++) {
                byte[] batch = batch(random, 3_000, producerId, i * 10);
                written.put(LogFixture.append(logs, shard, batch).baseOffset(), batch);
            }
            lostBatch = batch(random, 3_000, producerId, 50);
            assertThat(LogFixture.append(logs, shard, lostBatch).baseOffset()).isEqualTo(50);
        }
        // as if the machine lost power after RocksDB's WAL reached the disk and before the data file's sync did: the
        // last sync recorded is from before the last batch, whose bytes are not in the newest file
        try (LogStore store = new LogStore(dir, 8 << 20, 8 << 20, false, true, 65536, 0);
             org.rocksdb.WriteBatch batch = new org.rocksdb.WriteBatch()) {
            byte[] ref = store.logEntry(LogKeys.of(shardKey, 50));
            assertThat(BatchRef.is(ref)).isTrue();
            batch.put(store.metaFamily(), LogStore.bytes(LogStore.DATA_SYNCED_KEY),
                    ByteBuffer.allocate(8).putLong(DataFiles.mark(BatchRef.file(ref), BatchRef.position(ref))).array());
            store.write(batch, true);
            lostIn = BatchRef.file(ref);
            lostAt = BatchRef.position(ref);
        }
        Path holding = dataFiles().stream().filter(p -> p.getFileName().toString().equals(String.format("%010d.batches", lostIn)))
                .findFirst().orElseThrow();
        try (FileChannel channel = FileChannel.open(holding, StandardOpenOption.WRITE)) {
            // the batch, then its round's index write and that write's CRC: the file ends with the round
            assertThat(channel.size()).isGreaterThan(lostAt + lostBatch.length);
            channel.truncate(lostAt);
        }
        try (LogManager logs = open(Map.of())) {
            Shard shard = LogFixture.shardOf(logs);
            assertThat(shard.logEnd()).as("the log ends before the lost batch").isEqualTo(50);
            assertEachBatch(logs, shard, written);
            // the producer's retry of the lost batch is written again, not answered as a duplicate of what is gone
            byte[] retry = batch(new Random(5), 3_000, producerId, 50);
            AppendResult r = LogFixture.append(logs, shard, retry);
            assertThat(r.error()).isEqualTo(Errors.NONE);
            assertThat(r.baseOffset()).isEqualTo(50);
            written.put(50L, retry);
            assertEachBatch(logs, shard, written);
        }
    }

    /**
     * Rounds are acknowledged once the data files are synced; RocksDB's write-ahead log is synced only now and then
     * (decision 0033). Here RocksDB's files are kept as they were after the first rounds while the data files go on
     * to hold later acknowledged rounds, as a power loss leaves them when RocksDB's unsynced WAL did not reach the disk:
     * the later rounds are rebuilt from the data files, with their inline batches and their producer state.
     */
    @Test
    void roundsRocksDbLostAreRebuiltFromTheDataFilesWithTheirProducerState() throws Exception {
        long producerId = 11;
        Map<Long, byte[]> written = new HashMap<>();
        Path crashed = dir.resolveSibling(dir.getFileName() + "-crashed");
        byte[] lastBatch;
        try (LogManager logs = open(Map.of())) {
            Shard shard = LogFixture.shardOf(logs);
            Random random = new Random(21);
            int sequence = 0;
            for (int i = 0; i < 8; i++, sequence += 10) {
                byte[] batch = batch(random, i % 4 == 3 ? 20 : 3_000, producerId, sequence);
                written.put(LogFixture.append(logs, shard, batch).baseOffset(), batch);
            }
            // RocksDB as it is now, its WAL holding the rounds so far: everything after is lost from it
            copyTree(dir, crashed, p -> !p.startsWith(DataFiles.dir(dir)));
            byte[] batch = null;
            for (int i = 0; i < 12; i++, sequence += 10) {
                batch = batch(random, i % 4 == 3 ? 20 : 3_000, producerId, sequence);
                AppendResult r = LogFixture.append(logs, shard, batch);
                assertThat(r.error()).isEqualTo(Errors.NONE);
                written.put(r.baseOffset(), batch);
            }
            lastBatch = batch;
            // the data files as their fsyncs left them: every round acknowledged so far
            copyTree(DataFiles.dir(dir), crashed.resolve(DataFiles.DIR), p -> true);
        }
        dir = crashed;
        try (LogManager logs = open(Map.of())) {
            Shard shard = LogFixture.shardOf(logs);
            assertThat(shard.logEnd()).as("every acknowledged batch, rebuilt").isEqualTo(200);
            assertEachBatch(logs, shard, written);
            AppendResult retry = LogFixture.append(logs, shard, lastBatch.clone());
            // the producer state of the rebuilt rounds: a retry of the last batch is answered with its offset, not written again
            assertThat(retry.error()).isEqualTo(Errors.NONE);
            assertThat(retry.baseOffset()).isEqualTo(190);
            assertThat(shard.logEnd()).isEqualTo(200);
            byte[] next = batch(new Random(22), 3_000, producerId, 200);
            assertThat(LogFixture.append(logs, shard, next).baseOffset()).isEqualTo(200);
            written.put(200L, next);
        }
        try (LogManager logs = open(Map.of())) {
            assertEachBatch(logs, LogFixture.shardOf(logs), written);
        }
    }

    /**
     * RocksDB recovers its WAL in point-in-time mode, which would keep the prefix before a damaged record as it keeps the
     * prefix before a crash's unsynced end. Writes RocksDB had synced and then lost are damage: the start is refused
     * (decision 0018), not rebuilt from a point the index should be past.
     */
    @Test
    void anIndexThatLostWritesItHadSyncedIsRefusedAsDamaged() throws Exception {
        Path damaged = dir.resolveSibling(dir.getFileName() + "-damaged");
        try (LogManager logs = open(Map.of())) {
            Shard shard = LogFixture.shardOf(logs);
            Random random = new Random(24);
            LogFixture.append(logs, shard, batch(random, 3_000, -1, 0));
            copyTree(dir, damaged, p -> !p.startsWith(DataFiles.dir(dir)) && !p.getFileName().toString().equals(IndexSyncMark.FILE));
            for (int i = 0; i < 5; i++) {
                LogFixture.append(logs, shard, batch(random, 3_000, -1, 0));
            }
            logs.store().syncIndex(); // RocksDB synced past these rounds, and says so
            copyTree(DataFiles.dir(dir), damaged.resolve(DataFiles.DIR), p -> true);
            Files.copy(dir.resolve(IndexSyncMark.FILE), damaged.resolve(IndexSyncMark.FILE));
        }
        Path original = dir;
        dir = damaged;
        try {
            assertThatThrownBy(() -> open(Map.of())).isInstanceOf(StorageException.class)
                    .hasMessageContaining("is damaged and was not opened").hasMessageContaining("lost writes it had synced")
                    .hasMessageContaining("move this data.dir aside");
        } finally {
            dir = original;
        }
    }

    /** A round cut short or damaged ends the rebuild: nothing from it or after it comes back, everything before does. */
    @Test
    void aRoundCutShortEndsTheRebuildThere() throws Exception {
        Map<Long, byte[]> kept = new HashMap<>();
        Path crashed = dir.resolveSibling(dir.getFileName() + "-crashed");
        try (LogManager logs = open(Map.of())) {
            Shard shard = LogFixture.shardOf(logs);
            Random random = new Random(23);
            kept.put(LogFixture.append(logs, shard, batch(random, 3_000, -1, 0)).baseOffset(), null);
            copyTree(dir, crashed, p -> !p.startsWith(DataFiles.dir(dir)));
            for (int i = 0; i < 3; i++) {
                byte[] batch = batch(random, 3_000, -1, 0);
                kept.put(LogFixture.append(logs, shard, batch).baseOffset(), batch);
            }
            LogFixture.append(logs, shard, batch(random, 3_000, -1, 0));
            copyTree(DataFiles.dir(dir), crashed.resolve(DataFiles.DIR), p -> true);
        }
        // the last round's index write cut short, as a crash during its write leaves it
        Path newest = Files.list(crashed.resolve(DataFiles.DIR)).filter(p -> p.toString().endsWith(".batches")).sorted().reduce((a, b) -> b).orElseThrow();
        try (FileChannel channel = FileChannel.open(newest, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 10);
        }
        Path original = dir;
        dir = crashed;
        try (LogManager logs = open(Map.of())) {
            Shard shard = LogFixture.shardOf(logs);
            assertThat(shard.logEnd()).as("the three whole rounds after the first, not the cut one").isEqualTo(40);
            List<byte[]> read = new ArrayList<>();
            logs.reader().readCopies(shard, 10, 40, Integer.MAX_VALUE, true, read);
            assertThat(read).hasSize(3);
            for (byte[] b : read) {
                assertThat(b).isEqualTo(kept.get(ByteBuffer.wrap(b).getLong(BatchHeader.BASE_OFFSET)));
            }
        } finally {
            dir = original;
        }
    }

    private static void copyTree(Path from, Path to, java.util.function.Predicate<Path> include) throws java.io.IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : files.filter(include).toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else if (!p.getFileName().toString().equals("LOCK")) {
                    Files.copy(p, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    @Test
    void aDamagedBatchInADataFileIsReportedAsDamageAndNotServed() throws Exception {
        try (LogManager logs = open(Map.of())) {
            Shard shard = LogFixture.shardOf(logs);
            appendLarge(logs, shard, new Random(6), 40);
        }
        Path first = dataFiles().get(0);
        try (FileChannel channel = FileChannel.open(first, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            channel.read(b, 1_000);
            b.flip();
            byte flipped = (byte) (b.get(0) ^ 0x01);
            channel.write(ByteBuffer.wrap(new byte[] {flipped}), 1_000);
        }
        AtomicReference<String> fatal = new AtomicReference<>();
        Map<String, String> settings = new HashMap<>(Map.of("data.dir", dir.toString(), "disk.min.free.bytes", "0",
                "log.data.files", "true", "tail.cache.bytes.per.shard", "0"));
        try (LogManager logs = new LogManager(BrokerConfig.from(settings), CommitListener.NONE, CommitStats.NONE,
                (message, cause) -> fatal.set(message))) {
            Shard shard = LogFixture.shardOf(logs);
            assertThatThrownBy(() -> logs.reader().readCopies(shard, 0, shard.logEnd(), Integer.MAX_VALUE, true, new ArrayList<>()))
                    .isInstanceOf(StorageException.class).hasMessageContaining("fails its CRC32C check").hasMessageContaining(first.toString());
            assertThat(fatal.get()).as("the broker stops, as for a damaged RocksDB block").contains("the log is damaged");
        }
    }

    @Test
    void aStoreWithReferencesIsReadWithDataFilesTurnedOffAndNewBatchesGoInline() throws Exception {
        Map<Long, byte[]> written = new HashMap<>();
        Random random = new Random(7);
        try (LogManager logs = open(Map.of())) {
            Shard shard = LogFixture.shardOf(logs);
            written.putAll(appendLarge(logs, shard, random, 10));
        }
        int files = dataFiles().size();
        try (LogManager logs = open(Map.of("log.data.files", "false"))) {
            Shard shard = LogFixture.shardOf(logs);
            assertThat(logs.store().formatVersion()).as("format 3 stays: references remain").isEqualTo(LogStore.ROUNDS_FORMAT);
            byte[] batch = batch(random, 3_000, -1, 0);
            written.put(LogFixture.append(logs, shard, batch).baseOffset(), batch);
            assertEachBatch(logs, shard, written);
            byte[] last = logs.store().logEntry(LogKeys.of(shard.key(), shard.logEnd() - 10));
            assertThat(BatchRef.is(last)).as("new batches inline").isFalse();
        }
        assertThat(dataFiles()).hasSizeGreaterThanOrEqualTo(files);
    }

    @Test
    void aStoreWithoutDataFilesStaysInFormatOneForOlderBrokers() throws Exception {
        try (LogManager logs = open(Map.of("log.data.files", "false"))) {
            LogFixture.append(logs, LogFixture.shardOf(logs), batch(new Random(8), 3_000, -1, 0));
            assertThat(logs.store().formatVersion()).isEqualTo(LogStore.INLINE_FORMAT);
        }
        assertThat(Files.exists(DataFiles.dir(dir))).isFalse();
    }

    /** Appends {@code count} batches of about 3 KiB (each in a data file); returns them by base offset. */
    private static Map<Long, byte[]> appendLarge(LogManager logs, Shard shard, Random random, int count) throws Exception {
        Map<Long, byte[]> written = new HashMap<>();
        for (int i = 0; i < count; i++) {
            byte[] batch = batch(random, 3_000, -1, 0);
            AppendResult r = LogFixture.append(logs, shard, batch);
            assertThat(r.error()).isEqualTo(Errors.NONE);
            written.put(r.baseOffset(), batch);
        }
        return written;
    }

    @Test
    void anInterruptedReaderOrSyncerLeavesTheDataFilesUsableForEveryone() throws Exception {
        Map<Long, byte[]> written = new HashMap<>();
        try (LogManager logs = open(Map.of("log.flush.policy", "interval", "log.flush.interval.ms", "600000"))) {
            Shard shard = LogFixture.shardOf(logs);
            Random random = new Random(5);
            for (int i = 0; i < 10; i++) {
                byte[] batch = batch(random, 3_000, -1, 0);
                written.put(LogFixture.append(logs, shard, batch).baseOffset(), batch);
            }
            // an interrupted thread's FileChannel read closes the channel (ClosedByInterruptException) for every thread
            AtomicReference<Object> outcome = new AtomicReference<>();
            Thread reader = new Thread(() -> {
                Thread.currentThread().interrupt();
                try {
                    List<byte[]> read = new ArrayList<>();
                    logs.reader().readCopies(shard, 0, shard.logEnd(), Integer.MAX_VALUE, true, read);
                    outcome.set(Thread.currentThread().isInterrupted() ? read.size() : "the interrupt was lost");
                } catch (Throwable t) {
                    outcome.set(t);
                }
            });
            reader.start();
            reader.join(30_000);
            assertThat(outcome.get()).as("the interrupted reader read every batch and kept its interrupt").isEqualTo(10);
            // writes and other readers go on (no periodic sync within the test: the explicit one below has files to force)
            for (int i = 0; i < 10; i++) {
                byte[] batch = batch(random, 3_000, -1, 0);
                AppendResult r = LogFixture.append(logs, shard, batch);
                assertThat(r.error()).isEqualTo(Errors.NONE);
                written.put(r.baseOffset(), batch);
            }
            // the same for an fsync by an interrupted thread: it syncs, keeps its interrupt, and the file stays usable
            AtomicReference<Object> synced = new AtomicReference<>();
            Thread syncer = new Thread(() -> {
                Thread.currentThread().interrupt();
                try {
                    logs.store().syncWal();
                    synced.set(Thread.currentThread().isInterrupted());
                } catch (Throwable t) {
                    synced.set(t);
                }
            });
            syncer.start();
            syncer.join(30_000);
            assertThat(synced.get()).isEqualTo(true);
            byte[] last = batch(random, 3_000, -1, 0);
            written.put(LogFixture.append(logs, shard, last).baseOffset(), last);
            assertEachBatch(logs, shard, written);
        }
        try (LogManager logs = open(Map.of())) {
            assertEachBatch(logs, LogFixture.shardOf(logs), written);
        }
    }

    private void assertEachBatch(LogManager logs, Shard shard, Map<Long, byte[]> written) {
        List<byte[]> read = new ArrayList<>();
        logs.reader().readCopies(shard, shard.logStartOffset(), shard.logEnd(), Integer.MAX_VALUE, true, read);
        Map<Long, byte[]> byOffset = new HashMap<>();
        for (byte[] b : read) {
            byOffset.put(ByteBuffer.wrap(b).getLong(BatchHeader.BASE_OFFSET), b);
        }
        assertThat(byOffset.keySet()).isEqualTo(written.keySet());
        written.forEach((offset, batch) -> assertThat(byOffset.get(offset)).as("batch at %d", offset).isEqualTo(batch));
    }

    /** The data files, not the spare the next one begins on (decision 0034). */
    private List<Path> dataFiles() throws java.io.IOException {
        try (Stream<Path> files = Files.list(DataFiles.dir(dir))) {
            return files.filter(p -> p.getFileName().toString().endsWith(".batches")).sorted().toList();
        }
    }

    /** A batch of ten records of {@code valueBytes} random bytes each; idempotent when {@code producerId} >= 0. */
    private static byte[] batch(Random random, int valueBytes, long producerId, int firstSequence) {
        SimpleRecord[] records = new SimpleRecord[10];
        for (int i = 0; i < records.length; i++) {
            byte[] value = new byte[valueBytes / 10];
            random.nextBytes(value);
            records[i] = new SimpleRecord(System.currentTimeMillis(), ("k" + i).getBytes(), value);
        }
        MemoryRecords built = producerId < 0 ? MemoryRecords.withRecords(Compression.NONE, records)
                : MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, (short) 0, firstSequence, records);
        ByteBuffer buf = built.buffer();
        byte[] bytes = new byte[buf.remaining()];
        buf.get(bytes);
        return bytes;
    }
}
