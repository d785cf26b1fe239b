package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import io.capstan.broker.log.AppendResult;
import io.capstan.broker.log.CommitListener;
import io.capstan.broker.log.CommitStats;
import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A really full disk: a small tmpfs volume filled by another file. Produce must fail with a retriable error, reads
 * must go on, nothing acknowledged may be lost, and produce must work again once space returns. Needs root to mount;
 * CI sets CAPSTAN_REQUIRE_DISK_TESTS=1 so a missing mount fails rather than skips.
 */
class DiskFullTest {
    static final long VOLUME = 96L << 20;

    @TempDir
    Path tmp;
    Path volume;
    Path filler;

    @BeforeEach
    void mount() throws Exception {
        volume = tmp.resolve("vol");
        Files.createDirectories(volume);
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + VOLUME, "capstan-test", volume.toString())
                .redirectErrorStream(true).start();
        boolean mounted = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        String why = new String(p.getInputStream().readAllBytes());
        if ("1".equals(System.getenv("CAPSTAN_REQUIRE_DISK_TESTS"))) {
            assertThat(mounted).as("mounting a tmpfs for the full-disk test failed: " + why).isTrue();
        }
        assumeTrue(mounted, "cannot mount a tmpfs here (needs root): " + why);
        filler = volume.resolve("filler");
    }

    @AfterEach
    void unmount() throws Exception {
        if (volume != null) {
            new ProcessBuilder("umount", "-l", volume.toString()).start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void guardRefusesProduceBelowMinFreeSpaceAndRecovers() throws Exception {
        Map<String, String> settings = Map.of("data.dir", volume.resolve("data").toString(),
                "disk.min.free.bytes", String.valueOf(16L << 20), "rocksdb.write.buffer.bytes", String.valueOf(4 << 20));
        try (TestBroker broker = new TestBroker(volume.resolve("data"), settings); RawKafkaConnection c = new RawKafkaConnection(broker.broker().port())) {
            IdempotentProduceTest.createTopic(c);
            assertThat(produce(c, "before").error()).isEqualTo(Errors.NONE);
            fillUntilFree(8L << 20);
            broker.broker().logs().refreshDiskSpace();
            assertThat(produce(c, "refused").error()).isEqualTo(Errors.KAFKA_STORAGE_ERROR);
            assertThat(Errors.KAFKA_STORAGE_ERROR.exception()).isInstanceOf(org.apache.kafka.common.errors.RetriableException.class);
            // an offset commit is refused as Kafka's coordinator refuses it: consumers look for the coordinator again
            assertThat(commitOffset(c, 1)).isEqualTo(Errors.NOT_COORDINATOR);
            assertThat(readAll(c)).containsExactly("before");
            Files.delete(filler);
            broker.broker().logs().refreshDiskSpace();
            assertThat(produce(c, "after").error()).isEqualTo(Errors.NONE);
            assertThat(readAll(c)).containsExactly("before", "after");
            assertThat(commitOffset(c, 2)).isEqualTo(Errors.NONE);
        }
    }

    /**
     * With {@code log.data.files} the write the full disk refuses is a data file's, part of which may reach the file:
     * the batches after it must still be written where their references say.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "log.data.files={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void realOutOfSpaceWriteFailsRetriablyAndTheBrokerRecovers(boolean dataFiles) throws Exception {
        Map<String, String> settings = Map.of("data.dir", volume.resolve("data").toString(),
                "disk.min.free.bytes", "0", "rocksdb.write.buffer.bytes", String.valueOf(4 << 20), "log.data.files", String.valueOf(dataFiles),
                "tail.cache.bytes.per.shard", dataFiles ? "0" : "4194304"); // 0: reads go to the files
        List<String> acked = new ArrayList<>();
        try (TestBroker broker = new TestBroker(volume.resolve("data"), settings); RawKafkaConnection c = new RawKafkaConnection(broker.broker().port())) {
            IdempotentProduceTest.createTopic(c);
            for (int i = 0; i < 20; i++) {
                assertThat(produce(c, "ok-" + i).error()).isEqualTo(Errors.NONE);
                acked.add("ok-" + i);
            }
            fillUntilFree(0);
            String big = "x".repeat(900_000);
            Errors error = Errors.NONE;
            for (int i = 0; i < 50 && error == Errors.NONE; i++) {
                IdempotentProduceTest.Outcome o = produce(c, big + i);
                error = o.error();
                if (error == Errors.NONE) {
                    acked.add(big + i);
                }
            }
            assertThat(error).isEqualTo(Errors.KAFKA_STORAGE_ERROR);
            assertThat(readAll(c)).containsExactlyElementsOf(acked);
            Files.delete(filler);
            broker.broker().logs().refreshDiskSpace();
            // RocksDB's SstFileManager notices the space and clears its background error by itself
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                    .until(() -> produce(c, "recovered").error() == Errors.NONE);
            acked.add("recovered");
            assertThat(produce(c, "later").error()).isEqualTo(Errors.NONE);
            acked.add("later");
            assertThat(readAll(c)).containsExactlyElementsOf(acked);
        }
        // after the failed WAL appends and RocksDB's recovery, a restart must still find every acknowledged record
        try (TestBroker broker = new TestBroker(volume.resolve("data"), settings); RawKafkaConnection c = new RawKafkaConnection(broker.broker().port())) {
            assertThat(readAll(c)).containsExactlyElementsOf(acked);
        }
    }

    @Test
    void aTruncationThatCannotBeWrittenLeavesTheEpochHistoryAsItWas() throws Exception {
        // batches inline: the failed append must be RocksDB's, which then refuses the truncation too (with data files the
        // data file's write fails and RocksDB, untouched, takes the truncation)
        Map<String, String> settings = Map.of("data.dir", volume.resolve("data").toString(),
                "disk.min.free.bytes", "0", "rocksdb.write.buffer.bytes", String.valueOf(4 << 20), "log.data.files", "false");
        try (LogManager logs = new LogManager(io.capstan.config.BrokerConfig.from(settings), CommitListener.NONE, CommitStats.NONE,
                (what, cause) -> { })) {
            logs.createTopic("t", 1, Map.of());
            Shard shard = logs.catalog().shard(new TopicPartition("t", 0));
            shard.leaderEpoch(3);
            assertThat(append(logs, shard, "a")).isEqualTo(Errors.NONE);
            assertThat(append(logs, shard, "b")).isEqualTo(Errors.NONE);
            shard.leaderEpoch(5);
            assertThat(append(logs, shard, "c")).isEqualTo(Errors.NONE);
            Map<Integer, Long> epochs = shard.epochs().asMap();
            assertThat(epochs).isEqualTo(Map.of(3, 0L, 5, 2L));

            fillUntilFree(0);
            String big = "x".repeat(900_000);
            Errors error = Errors.NONE;
            for (int i = 0; i < 50 && error == Errors.NONE; i++) {
                error = append(logs, shard, big + i);
            }
            assertThat(error).as("the volume is full").isEqualTo(Errors.KAFKA_STORAGE_ERROR);
            long end = shard.logEnd();
            // RocksDB refuses every write after a failed one until space returns: this truncation fails too
            java.util.concurrent.CompletableFuture<Void> truncated = logs.truncateEnd(shard, 1);
            assertThat(truncated).failsWithin(Duration.ofSeconds(30));
            assertThat(shard.epochs().asMap()).as("the epochs a failed truncation would have dropped").isEqualTo(epochs);
            assertThat(shard.logEnd()).isEqualTo(end);
        }
    }

    private static Errors append(LogManager logs, Shard shard, String value) throws Exception {
        java.util.concurrent.CompletableFuture<AppendResult> result = new java.util.concurrent.CompletableFuture<>();
        java.nio.ByteBuffer records = Batches.plain(value).buffer();
        byte[] batch = new byte[records.remaining()];
        records.get(batch);
        logs.append(shard, batch, result::complete);
        return result.get(30, TimeUnit.SECONDS).error();
    }

    private void fillUntilFree(long leaveFree) throws IOException {
        byte[] chunk = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (Files.getFileStore(volume).getUsableSpace() > leaveFree + chunk.length) {
                out.write(chunk);
            }
            if (leaveFree == 0) {
                try {
                    for (int i = 0; i < 64; i++) {
                        out.write(new byte[4096]);
                        out.flush();
                    }
                } catch (IOException full) {
                    // expected: the volume is now completely full
                }
            }
        } catch (IOException full) {
            // the last chunk hit the end of the volume
        }
    }

    private static IdempotentProduceTest.Outcome produce(RawKafkaConnection c, String value) throws IOException {
        return IdempotentProduceTest.produce(c, Batches.plain(value));
    }

    /** An admin commit (no member) of offset {@code offset} of t-0 for group g; the partition's answer. */
    private static Errors commitOffset(RawKafkaConnection c, long offset) throws IOException {
        org.apache.kafka.common.message.OffsetCommitRequestData req = new org.apache.kafka.common.message.OffsetCommitRequestData()
                .setGroupId("g").setGenerationIdOrMemberEpoch(-1).setMemberId("");
        req.topics().add(new org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestTopic().setName("t")
                .setPartitions(List.of(new org.apache.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestPartition()
                        .setPartitionIndex(0).setCommittedOffset(offset))));
        org.apache.kafka.common.message.OffsetCommitResponseData r = c.send(ApiKeys.OFFSET_COMMIT, (short) 8, req);
        return Errors.forCode(r.topics().get(0).partitions().get(0).errorCode());
    }

    private static List<String> readAll(RawKafkaConnection c) throws IOException {
        List<String> values = new ArrayList<>();
        long offset = 0;
        while (true) {
            FetchRequestData req = new FetchRequestData().setMaxWaitMs(0).setMinBytes(0).setMaxBytes(64 << 20)
                    .setReplicaId(-1).setSessionEpoch(-1);
            req.topics().add(new FetchRequestData.FetchTopic().setTopic("t").setPartitions(List.of(
                    new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(offset).setPartitionMaxBytes(64 << 20))));
            FetchResponseData r = c.send(ApiKeys.FETCH, (short) 12, req);
            FetchResponseData.PartitionData pd = r.responses().get(0).partitions().get(0);
            assertThat(pd.errorCode()).isEqualTo(Errors.NONE.code());
            MemoryRecords records = (MemoryRecords) pd.records();
            int before = values.size();
            for (RecordBatch batch : records.batches()) {
                for (Record rec : batch) {
                    if (rec.offset() >= offset) {
                        values.add(java.nio.charset.StandardCharsets.UTF_8.decode(rec.value()).toString());
                        offset = rec.offset() + 1;
                    }
                }
            }
            if (values.size() == before) {
                return values;
            }
        }
    }

    static TopicPartition tp() {
        return new TopicPartition("t", 0);
    }
}
