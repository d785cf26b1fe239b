package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.broker.log.AppendResult;
import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import io.capstan.broker.log.TxnMarker;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka's own consumer against the log side of transactions: transactional batches and markers written into a real
 * broker's log as a coordinator would, read with isolation.level=read_committed (each committed record, no aborted
 * one, nothing past the last stable offset; endOffsets is that offset) and read_uncommitted (every data record).
 */
class ReadCommittedFetchTest {
    private static final TopicPartition TP = new TopicPartition("txn", 0);
    private static final long A = 1000;
    private static final long B = 1001;

    @TempDir
    Path dir;

    @Test
    void readCommittedConsumersSeeExactlyTheCommittedRecordsUpToTheStableOffset() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic(TP.topic(), 1, (short) 1))).all().get();
            brokerBootstrap = broker.bootstrap();
            LogManager logs = broker.broker().logs();
            Shard shard = logs.catalog().shard(TP);
            List<String> committed = new ArrayList<>();
            // interleaved: A's records are aborted, B's committed; then a transaction of each left open
            for (int round = 0; round < 20; round++) {
                append(logs, shard, txn(A, round * 3, 3));
                append(logs, shard, txn(B, round * 2, 2));
                committed.add("p" + B + "-" + (round * 2));
                committed.add("p" + B + "-" + (round * 2 + 1));
            }
            marker(logs, shard, A, false);
            marker(logs, shard, B, true);
            long stableBeforeOpen = shard.logEnd();
            append(logs, shard, txn(A, 60, 2)); // open: read_committed consumers stop before it
            append(logs, shard, txn(B, 40, 1));
            // the replica layer moves the high watermark just after the write: wait for it to pass the open transaction
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> shard.highWatermark() == shard.logEnd());
            assertThat(shard.lastStableOffset()).isEqualTo(stableBeforeOpen);

            List<String> readCommitted = read("read_committed", committed.size());
            assertThat(readCommitted).as("each committed record once, in order, no aborted one").containsExactlyElementsOf(committed);
            try (KafkaConsumer<String, String> c = consumer("read_committed")) {
                assertThat(c.endOffsets(List.of(TP))).as("the end a read_committed consumer sees").containsEntry(TP, stableBeforeOpen);
            }
            assertThat(read("read_uncommitted", 20 * 5 + 3)).as("read_uncommitted: every data record").hasSize(20 * 5 + 3);

            marker(logs, shard, B, true);
            marker(logs, shard, A, true);
            committed.add("p" + B + "-40");
            committed.add("p" + A + "-60");
            committed.add("p" + A + "-61");
            // A's second transaction and B's (B-40) come after the first aborted/committed pair
            List<String> all = read("read_committed", committed.size());
            assertThat(all.subList(0, 40)).containsExactlyElementsOf(committed.subList(0, 40));
            assertThat(all.subList(40, 43)).containsExactlyInAnyOrder("p" + A + "-60", "p" + A + "-61", "p" + B + "-40");
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> shard.highWatermark() == shard.logEnd());
            assertThat(shard.lastStableOffset()).isEqualTo(shard.highWatermark());
        }
    }

    @Test
    void aHangingTransactionIsFoundAndAbortedWithKafkasAdminClient() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic(TP.topic(), 1, (short) 1))).all().get();
            brokerBootstrap = broker.bootstrap();
            LogManager logs = broker.broker().logs();
            Shard shard = logs.catalog().shard(TP);
            append(logs, shard, txn(B, 0, 2));
            marker(logs, shard, B, true);
            append(logs, shard, txn(A, 0, 3)); // its coordinator is gone: the transaction hangs, holding the stable offset
            append(logs, shard, txn(B, 2, 1));
            marker(logs, shard, B, true);
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> shard.highWatermark() == shard.logEnd());
            assertThat(shard.lastStableOffset()).isEqualTo(3);

            // kafka-transactions describe-producers / find-hanging
            var producers = admin.describeProducers(List.of(TP)).partitionResult(TP).get().activeProducers();
            var hanging = producers.stream().filter(p -> p.producerId() == A).findFirst().orElseThrow();
            assertThat(hanging.currentTransactionStartOffset()).hasValue(3);
            assertThat(hanging.coordinatorEpoch()).isEmpty();
            assertThat(producers.stream().filter(p -> p.producerId() == B).findFirst().orElseThrow().currentTransactionStartOffset()).isEmpty();

            // kafka-transactions abort --topic txn --partition 0 --producer-id ... (WriteTxnMarkers to the leader)
            admin.abortTransaction(new org.apache.kafka.clients.admin.AbortTransactionSpec(TP, A, (short) 0, 0)).all().get();
            assertThat(shard.lastStableOffset()).as("the marker is replicated once the abort is answered").isEqualTo(shard.highWatermark());
            assertThat(read("read_committed", 3)).containsExactly("p" + B + "-0", "p" + B + "-1", "p" + B + "-2");

            var stale = admin.abortTransaction(new org.apache.kafka.clients.admin.AbortTransactionSpec(TP, B, (short) 0, -5)).all();
            assertThat(org.assertj.core.api.Assertions.catchThrowable(stale::get)).as("a marker from an older coordinator epoch")
                    .hasCauseInstanceOf(org.apache.kafka.common.errors.TransactionCoordinatorFencedException.class);
        }
    }

    private List<String> read(String isolation, int expected) {
        List<String> out = new ArrayList<>();
        try (KafkaConsumer<String, String> c = consumer(isolation)) {
            c.assign(List.of(TP));
            c.seekToBeginning(List.of(TP));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (out.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    out.add(r.value());
                }
            }
            // and nothing more arrives: a record beyond the expectation would be an aborted or unstable one
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
                out.add(r.value());
            }
        }
        return out;
    }

    private KafkaConsumer<String, String> consumer(String isolation) {
        Properties p = new Properties();
        p.put("bootstrap.servers", brokerBootstrap);
        p.put("isolation.level", isolation);
        p.put("max.partition.fetch.bytes", "300"); // several fetches, each with its own aborted-transaction list
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    private String brokerBootstrap;

    private void append(LogManager logs, Shard shard, byte[] batch) throws Exception {
        CompletableFuture<AppendResult> done = new CompletableFuture<>();
        logs.append(shard, batch, done::complete);
        assertThat(done.get(10, TimeUnit.SECONDS).error()).isEqualTo(Errors.NONE);
    }

    private void marker(LogManager logs, Shard shard, long producerId, boolean commit) throws Exception {
        CompletableFuture<AppendResult> done = new CompletableFuture<>();
        logs.appendMarker(shard, producerId, (short) 0, new TxnMarker(commit, 0), shard.leaderEpoch(), done::complete);
        assertThat(done.get(10, TimeUnit.SECONDS).error()).isEqualTo(Errors.NONE);
    }

    private static byte[] txn(long producerId, int firstSeq, int count) {
        SimpleRecord[] records = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            records[i] = new SimpleRecord(System.currentTimeMillis(), null, ("p" + producerId + "-" + (firstSeq + i)).getBytes(StandardCharsets.UTF_8));
        }
        ByteBuffer buf = MemoryRecords.withTransactionalRecords(Compression.NONE, producerId, (short) 0, firstSeq, records).buffer();
        byte[] out = new byte[buf.remaining()];
        buf.get(out);
        return out;
    }
}
