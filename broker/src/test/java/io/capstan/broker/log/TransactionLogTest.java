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
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log side of transactions on real RocksDB: transactional batches open a transaction per producer, markers end
 * it, the last stable offset stops at the first undecided one, aborts go into the aborted index; all of it survives a
 * restart, is rebuilt identically by a follower from the leader's batches, and is undone by a truncation.
 */
class TransactionLogTest {
    private static final Uuid TOPIC_ID = Uuid.randomUuid();
    private static final long A = 7;
    private static final long B = 8;

    @TempDir
    Path dir;

    @Test
    void markersEndTransactionsAndTheStableOffsetWaitsForTheFirstOpenOne() throws Exception {
        try (LogManager logs = LogFixture.open(dir.resolve("leader"), TOPIC_ID)) {
            Shard s = LogFixture.shardOf(logs);
            assertThat(ok(LogFixture.append(logs, s, txn(A, 0, 0, 2)))).isEqualTo(0);      // A: 0-1
            assertThat(ok(LogFixture.append(logs, s, txn(B, 0, 0, 2)))).isEqualTo(2);      // B: 2-3
            assertThat(ok(LogFixture.append(logs, s, txn(A, 0, 2, 2)))).isEqualTo(4);      // A: 4-5
            assertThat(s.highWatermark()).isEqualTo(6);
            assertThat(s.lastStableOffset()).as("A is open from 0").isZero();

            assertThat(ok(marker(logs, s, A, 0, false, 0))).isEqualTo(6);      // A aborted at 6
            assertThat(s.lastStableOffset()).as("B is open from 2").isEqualTo(2);
            assertThat(logs.reader().abortedTransactions(s, 0, 8)).containsExactly(new AbortedTxn(A, 0, 6, 2));

            assertThat(ok(marker(logs, s, B, 0, true, 0))).isEqualTo(7);       // B committed at 7
            assertThat(s.lastStableOffset()).isEqualTo(s.highWatermark()).isEqualTo(8);
            assertThat(logs.reader().abortedTransactions(s, 0, 8)).as("commits are not indexed").containsExactly(new AbortedTxn(A, 0, 6, 2));
            assertThat(logs.reader().abortedTransactions(s, 7, 8)).as("a read after the abort marker needs none").isEmpty();

            List<byte[]> read = new ArrayList<>();
            logs.reader().readCopies(s, 0, s.lastStableOffset(), Integer.MAX_VALUE, true, read);
            assertThat(read).hasSize(5);
            assertThat(controlFlags(read)).containsExactly(false, false, false, true, true);
        }
        try (LogManager reopened = LogFixture.open(dir.resolve("leader"), TOPIC_ID)) {
            Shard s = LogFixture.shardOf(reopened);
            assertThat(s.lastStableOffset()).isEqualTo(8);
            assertThat(reopened.reader().abortedTransactions(s, 0, 8)).containsExactly(new AbortedTxn(A, 0, 6, 2));
            assertThat(ok(LogFixture.append(reopened, s, txn(A, 0, 4, 1)))).isEqualTo(8);
            assertThat(s.lastStableOffset()).isEqualTo(8);
        }
        try (LogManager again = LogFixture.open(dir.resolve("leader"), TOPIC_ID)) {
            Shard s = LogFixture.shardOf(again);
            assertThat(s.highWatermark()).isEqualTo(9);
            assertThat(s.lastStableOffset()).as("a transaction open at shutdown is open after the restart").isEqualTo(8);
            assertThat(again.activeProducers(s)).filteredOn(p -> p.producerId() == A).singleElement()
                    .satisfies(p -> assertThat(p.currentTxnStartOffset()).isEqualTo(8));
        }
    }

    @Test
    void aFollowerRebuildsTheSameStateAndATruncationReopensWhatItCut() throws Exception {
        List<byte[]> leaderBatches = new ArrayList<>();
        try (LogManager leader = LogFixture.open(dir.resolve("leader"), TOPIC_ID)) {
            Shard l = LogFixture.shardOf(leader);
            ok(LogFixture.append(leader, l, txn(A, 0, 0, 3)));   // 0-2
            ok(LogFixture.append(leader, l, txn(B, 0, 0, 1)));   // 3
            ok(marker(leader, l, A, 0, false, 0));    // 4: A aborted
            ok(LogFixture.append(leader, l, txn(B, 0, 1, 1)));   // 5
            leader.reader().readCopies(l, 0, l.logEnd(), Integer.MAX_VALUE, true, leaderBatches);
        }
        try (LogManager follower = LogFixture.open(dir.resolve("follower"), TOPIC_ID)) {
            Shard f = LogFixture.shardOf(follower);
            f.replicate(0);
            for (byte[] batch : leaderBatches) {
                assertThat(LogFixture.appendFromLeader(follower, f, batch.clone()).error()).isEqualTo(Errors.NONE);
            }
            f.advanceHighWatermark(6);
            assertThat(f.lastStableOffset()).as("B is open from 3 on the follower too").isEqualTo(3);
            assertThat(follower.reader().abortedTransactions(f, 0, 6)).containsExactly(new AbortedTxn(A, 0, 4, 3));

            // a new leader without the abort marker: the follower cuts at 4, and A is open again from 0
            follower.truncateEnd(f, 4).get(10, TimeUnit.SECONDS);
            assertThat(follower.reader().abortedTransactions(f, 0, 4)).as("the cut marker's index entry goes with it").isEmpty();
            assertThat(follower.activeProducers(f)).filteredOn(p -> p.producerId() == A).singleElement()
                    .satisfies(p -> assertThat(p.currentTxnStartOffset()).isZero());
            assertThat(f.lastStableOffset()).isZero();

            // and cut below B's first batch, B is gone: only A holds the stable offset
            follower.truncateEnd(f, 3).get(10, TimeUnit.SECONDS);
            assertThat(follower.activeProducers(f)).extracting(LogManager.ActiveProducer::producerId).containsExactly(A);
            f.leaderEpoch(2);
            assertThat(ok(marker(follower, f, A, 0, true, 1))).isEqualTo(3);
            assertThat(f.lastStableOffset()).as("ended, but its marker is not replicated yet").isZero();
            f.advanceHighWatermark(4);
            assertThat(f.lastStableOffset()).as("committed by the new coordinator, and replicated").isEqualTo(4);
            assertThat(follower.reader().abortedTransactions(f, 0, 4)).isEmpty();
        }
    }

    @Test
    void staleEpochsAreFencedAndALateWriteCannotJoinTheNextTransaction() throws Exception {
        try (LogManager logs = LogFixture.open(dir.resolve("log"), TOPIC_ID)) {
            Shard s = LogFixture.shardOf(logs);
            ok(LogFixture.append(logs, s, txn(A, 0, 0, 1)));
            assertThat(LogFixture.append(logs, s, idempotent(A, 0, 1)).error()).as("a plain batch inside an open transaction")
                    .isEqualTo(Errors.INVALID_TXN_STATE);
            // KIP-890: the coordinator ends the transaction with a bumped epoch
            ok(marker(logs, s, A, 1, true, 3));
            assertThat(marker(logs, s, A, 0, false, 3).error()).as("a marker of an older producer epoch").isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
            assertThat(marker(logs, s, A, 1, false, 2).error()).as("a marker from a deposed coordinator").isEqualTo(Errors.TRANSACTION_COORDINATOR_FENCED);
            assertThat(LogFixture.append(logs, s, txn(A, 0, 1, 1)).error()).as("the old epoch's late retry").isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
            assertThat(LogFixture.append(logs, s, txn(A, 1, 5, 1)).error()).as("the new epoch's sequences restart at 0")
                    .isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
            long next = ok(LogFixture.append(logs, s, txn(A, 1, 0, 1)));
            assertThat(s.lastStableOffset()).isEqualTo(next);
        }
    }

    @Test
    void aVerifiedBatchOpensATransactionOnlyIfNoMarkerCameSinceItsCheck() throws Exception {
        try (LogManager logs = LogFixture.open(dir.resolve("log"), TOPIC_ID)) {
            Shard s = LogFixture.shardOf(logs);
            assertThat(transactional(logs, s, txn(A, 0, 0, 1), TxnVerification.OPEN).error())
                    .as("sent as part of an open transaction, but none is open").isEqualTo(Errors.INVALID_TXN_STATE);
            ok(transactional(logs, s, txn(A, 0, 0, 1), ProducerEntry.NONE));                   // 0: verified, opens
            assertThat(s.txnView(A).open()).isTrue();
            ok(transactional(logs, s, txn(A, 0, 1, 1), TxnVerification.OPEN));                 // 1: joins it
            ok(marker(logs, s, A, 0, false, 0));                                               // 2: aborted
            assertThat(s.txnView(A)).isEqualTo(new TxnVerification.View(false, (short) 0, 2));
            assertThat(transactional(logs, s, txn(A, 0, 2, 1), ProducerEntry.NONE).error())
                    .as("verified before the abort marker at 2: it belongs to the aborted transaction").isEqualTo(Errors.INVALID_TXN_STATE);
            ok(transactional(logs, s, txn(A, 0, 2, 1), 2));                                    // verified after it: a new transaction
            assertThat(s.lastStableOffset()).isEqualTo(3);
        }
        try (LogManager reopened = LogFixture.open(dir.resolve("log"), TOPIC_ID)) {
            assertThat(LogFixture.shardOf(reopened).txnView(A)).as("the view is rebuilt at start").isEqualTo(new TxnVerification.View(true, (short) 0, 2));
        }
    }

    private static AppendResult transactional(LogManager logs, Shard shard, byte[] batch, long verifiedLastTxnEnd) throws Exception {
        CompletableFuture<AppendResult> done = new CompletableFuture<>();
        logs.appendTransactional(shard, batch, shard.leaderEpoch(), verifiedLastTxnEnd, done::complete);
        return done.get(10, TimeUnit.SECONDS);
    }

    @Test
    void retentionDropsAbortedEntriesBelowTheNewStart() throws Exception {
        try (LogManager logs = LogFixture.open(dir.resolve("log"), TOPIC_ID)) {
            Shard s = LogFixture.shardOf(logs);
            ok(LogFixture.append(logs, s, txn(A, 0, 0, 1)));   // 0
            ok(marker(logs, s, A, 0, false, 0));    // 1
            ok(LogFixture.append(logs, s, txn(A, 0, 1, 1)));   // 2
            ok(marker(logs, s, A, 0, false, 0));    // 3
            assertThat(logs.reader().abortedTransactions(s, 0, 4)).hasSize(2);
            logs.truncateBefore(s, 2).get(10, TimeUnit.SECONDS);
            assertThat(logs.reader().abortedTransactions(s, 0, 4)).containsExactly(new AbortedTxn(A, 2, 3, 4));
        }
    }

    @Test
    void compactionKeepsTheCommittedValueOverAnAbortedOneAndStopsAtTheStableOffset() throws Exception {
        long now = 1_000_000;
        Map<String, String> settings = Map.of("data.dir", dir.resolve("compacted").toString(), "disk.min.free.bytes", "0",
                "log.cleaner.enable", "false", "log.message.timestamp.after.max.ms", "9223372036854775807");
        try (LogManager logs = new LogManager(BrokerConfig.from(settings), CommitListener.NONE, CommitStats.NONE, FatalErrorHandler.haltProcess())) {
            logs.createTopic("t", TOPIC_ID, 1, Map.of("cleanup.policy", "compact", "min.cleanable.dirty.ratio", "0"));
            Shard s = LogFixture.shardOf(logs);
            ok(LogFixture.append(logs, s, keyed(A, 0, "k", "committed")));    // 0
            ok(marker(logs, s, A, 0, true, 0));                    // 1
            ok(LogFixture.append(logs, s, keyed(A, 1, "k", "aborted")));      // 2
            ok(marker(logs, s, A, 0, false, 0));                   // 3
            ok(LogFixture.append(logs, s, keyed(B, 0, "j", "open-1")));       // 4: B open
            ok(LogFixture.append(logs, s, keyed(A, 2, "j", "committed-j")));  // 5
            ok(marker(logs, s, A, 0, true, 0));                    // 6
            ok(LogFixture.append(logs, s, keyed(B, 1, "j", "open-2")));       // 7
            assertThat(s.lastStableOffset()).isEqualTo(4);
            logs.runCleaner(now);
            assertThat(values(logs, s)).as("the aborted value went and did not displace the committed one; nothing from B's open "
                    + "transaction on was compacted").containsExactly("k=committed", "j=open-1", "j=committed-j", "j=open-2");
        }
    }

    private static List<String> values(LogManager logs, Shard s) {
        List<byte[]> batches = new ArrayList<>();
        logs.reader().readCopies(s, 0, s.logEnd(), Integer.MAX_VALUE, true, batches);
        List<String> out = new ArrayList<>();
        for (byte[] b : batches) {
            for (org.apache.kafka.common.record.internal.RecordBatch batch : MemoryRecords.readableRecords(ByteBuffer.wrap(b)).batches()) {
                if (!batch.isControlBatch()) {
                    for (org.apache.kafka.common.record.internal.Record r : batch) {
                        out.add(StandardCharsets.UTF_8.decode(r.key()) + "=" + StandardCharsets.UTF_8.decode(r.value()));
                    }
                }
            }
        }
        return out;
    }

    private static byte[] keyed(long producerId, int seq, String key, String value) {
        return bytes(MemoryRecords.withTransactionalRecords(Compression.NONE, producerId, (short) 0, seq,
                new SimpleRecord(1_000L, key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void producersCannotWriteControlBatches() {
        byte[] control = new TxnMarker(true, 0).batch(A, (short) 0, 1_000);
        BatchValidator.Verdict verdict = new BatchValidator(1 << 20).validate(ByteBuffer.wrap(control));
        assertThat(verdict.error()).isEqualTo(Errors.INVALID_RECORD);
        assertThat(verdict.reason()).contains("transaction coordinators");
    }

    private static List<Boolean> controlFlags(List<byte[]> batches) {
        List<Boolean> out = new ArrayList<>();
        for (byte[] b : batches) {
            out.add(new BatchHeader().wrap(ByteBuffer.wrap(b), 0).isControl());
        }
        return out;
    }

    private static long ok(AppendResult result) {
        assertThat(result.error()).as("append: %s", result).isEqualTo(Errors.NONE);
        return result.baseOffset();
    }

    static byte[] txn(long producerId, int epoch, int firstSeq, int count) {
        return bytes(MemoryRecords.withTransactionalRecords(Compression.NONE, producerId, (short) epoch, firstSeq, records(producerId, firstSeq, count)));
    }

    static byte[] idempotent(long producerId, int firstSeq, int count) {
        return bytes(MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, (short) 0, firstSeq, records(producerId, firstSeq, count)));
    }

    private static SimpleRecord[] records(long producerId, int firstSeq, int count) {
        SimpleRecord[] records = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            records[i] = new SimpleRecord(1_000L + i, null, ("p" + producerId + "-" + (firstSeq + i)).getBytes(StandardCharsets.UTF_8));
        }
        return records;
    }

    private static byte[] bytes(MemoryRecords records) {
        ByteBuffer buf = records.buffer();
        byte[] out = new byte[buf.remaining()];
        buf.get(out);
        return out;
    }

    private static AppendResult marker(LogManager logs, Shard shard, long producerId, int epoch, boolean commit, int coordinatorEpoch) throws Exception {
        CompletableFuture<AppendResult> done = new CompletableFuture<>();
        logs.appendMarker(shard, producerId, (short) epoch, new TxnMarker(commit, coordinatorEpoch), shard.leaderEpoch(), done::complete);
        return done.get(10, TimeUnit.SECONDS);
    }

}
