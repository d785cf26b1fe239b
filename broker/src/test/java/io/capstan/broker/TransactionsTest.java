package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import io.capstan.broker.log.Shard;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka's own transactional producer, consumer and admin client against one broker: commits are seen by
 * read_committed consumers record by record, aborts never; offsets sent to a transaction count only if it commits;
 * a second instance fences the first; a transaction left open past its timeout is aborted by the coordinator;
 * {@code kafka-transactions} (the admin client) lists and describes them.
 */
class TransactionsTest {
    @TempDir
    Path dir;
    TestBroker broker;

    @BeforeEach
    void start() throws Exception {
        broker = new TestBroker(dir, Map.of("transaction.abort.timed.out.transaction.cleanup.interval.ms", "200"));
        try (Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("in", 2, (short) 1), new NewTopic("out", 2, (short) 1))).all().get();
        }
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private KafkaProducer<String, String> producer(String transactionalId, int timeoutMs) {
        Properties p = broker.clientProps();
        p.put("transactional.id", transactionalId);
        p.put("transaction.timeout.ms", String.valueOf(timeoutMs));
        p.put("max.block.ms", "30000");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private KafkaConsumer<String, String> consumer(String group) {
        Properties p = broker.clientProps();
        p.put("group.id", group);
        p.put("isolation.level", "read_committed");
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    private List<String> readCommitted(String topic, int expected) {
        List<String> out = new ArrayList<>();
        try (KafkaConsumer<String, String> c = consumer("reader-" + System.nanoTime())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (out.size() < expected && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(100)).forEach(r -> out.add(r.value()));
            }
            c.poll(Duration.ofMillis(500)).forEach(r -> out.add(r.value())); // nothing more may come
        }
        return out;
    }

    @Test
    void committedTransactionsAreReadAndAbortedOnesNever() throws Exception {
        List<String> committed = new ArrayList<>();
        try (KafkaProducer<String, String> producer = producer("writer", 60_000)) {
            producer.initTransactions();
            for (int txn = 0; txn < 10; txn++) {
                producer.beginTransaction();
                for (int i = 0; i < 5; i++) {
                    String value = "t" + txn + "-" + i;
                    producer.send(new ProducerRecord<>("out", i % 2, "k" + i, value));
                    if (txn % 3 != 1) {
                        committed.add(value);
                    }
                }
                if (txn % 3 == 1) {
                    producer.abortTransaction();
                } else {
                    producer.commitTransaction();
                }
            }
        }
        assertThat(readCommitted("out", committed.size())).containsExactlyInAnyOrderElementsOf(committed);
    }

    @Test
    void offsetsSentToATransactionCountOnlyWhenItCommits() throws Exception {
        try (KafkaProducer<String, String> seed = producer("seed", 60_000)) {
            seed.initTransactions();
            seed.beginTransaction();
            for (int i = 0; i < 20; i++) {
                seed.send(new ProducerRecord<>("in", 0, "k" + i, "v" + i));
            }
            seed.commitTransaction();
        }
        TopicPartition in0 = new TopicPartition("in", 0);
        try (KafkaProducer<String, String> producer = producer("copier", 60_000);
             KafkaConsumer<String, String> consumer = consumer("copiers")) {
            producer.initTransactions();
            consumer.assign(List.of(in0));
            List<ConsumerRecord<String, String>> batch = new ArrayList<>();
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(100)).forEach(batch::add);
                return batch.size() >= 20;
            });
            // the first ten copied and committed with their offsets; the rest copied, then aborted
            producer.beginTransaction();
            batch.subList(0, 10).forEach(r -> producer.send(new ProducerRecord<>("out", 0, r.key(), r.value())));
            producer.sendOffsetsToTransaction(Map.of(in0, new OffsetAndMetadata(10)), consumer.groupMetadata());
            producer.commitTransaction();
            producer.beginTransaction();
            batch.subList(10, 20).forEach(r -> producer.send(new ProducerRecord<>("out", 0, r.key(), r.value())));
            producer.sendOffsetsToTransaction(Map.of(in0, new OffsetAndMetadata(20)), consumer.groupMetadata());
            producer.abortTransaction();
        }
        try (Admin admin = Admin.create(broker.clientProps())) {
            assertThat(admin.listConsumerGroupOffsets("copiers").partitionsToOffsetAndMetadata().get().get(in0).offset())
                    .as("only the committed transaction's offset").isEqualTo(10);
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            expected.add("v" + i);
        }
        assertThat(readCommitted("out", 10)).containsExactlyElementsOf(expected);
    }

    /**
     * KIP-890 part 1: a batch of a transaction that was already aborted (a produce delayed in the network past the abort)
     * would open a new transaction in its partition that no coordinator knows of, holding back read_committed consumers
     * until someone aborts it by hand. The leader asks the coordinator first and refuses it.
     */
    @Test
    void aWriteDelayedPastItsTransactionsAbortIsRefusedInsteadOfHanging() throws Exception {
        try (KafkaProducer<String, String> producer = producer("late", 60_000)) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("out", 0, "k", "aborted")).get();
            producer.abortTransaction();
        }
        TransactionDescription txn;
        try (Admin admin = Admin.create(broker.clientProps())) {
            // abortTransaction returns once the decision is replicated; the markers follow, then the completion
            Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                    admin.describeTransactions(List.of("late")).description("late").get().state().toString()).isEqualTo("CompleteAbort"));
            txn = admin.describeTransactions(List.of("late")).description("late").get();
        }
        Shard shard = broker.broker().logs().catalog().shard(new TopicPartition("out", 0));
        long end = shard.logEnd();
        org.apache.kafka.common.record.internal.MemoryRecords late = org.apache.kafka.common.record.internal.MemoryRecords.withTransactionalRecords(
                org.apache.kafka.common.compress.Compression.NONE, txn.producerId(), (short) txn.producerEpoch(), 1,
                new org.apache.kafka.common.record.internal.SimpleRecord("late".getBytes()));
        try (RawKafkaConnection c = new RawKafkaConnection(broker.broker().port())) {
            org.apache.kafka.common.message.ProduceResponseData r = c.send(org.apache.kafka.common.protocol.ApiKeys.PRODUCE, (short) 11,
                    Batches.produce("out", 0, late).setTransactionalId("late").setAcks((short) -1));
            var partition = r.responses().iterator().next().partitionResponses().get(0);
            assertThat(org.apache.kafka.common.protocol.Errors.forCode(partition.errorCode()))
                    .as("%s", partition.errorMessage()).isEqualTo(org.apache.kafka.common.protocol.Errors.INVALID_TXN_STATE);
        }
        assertThat(shard.logEnd()).as("nothing written").isEqualTo(end);
        assertThat(shard.lastStableOffset()).as("no transaction left hanging").isEqualTo(shard.highWatermark());
    }

    @Test
    void aNewInstanceFencesTheOldOneAndAbortsItsOpenTransaction() throws Exception {
        KafkaProducer<String, String> zombie = producer("shared", 60_000);
        zombie.initTransactions();
        zombie.beginTransaction();
        zombie.send(new ProducerRecord<>("out", 0, "k", "zombie")).get();
        try (KafkaProducer<String, String> successor = producer("shared", 60_000)) {
            successor.initTransactions(); // aborts the zombie's open transaction first
            successor.beginTransaction();
            successor.send(new ProducerRecord<>("out", 0, "k", "successor"));
            successor.commitTransaction();
            assertThatThrownBy(zombie::commitTransaction).isInstanceOf(ProducerFencedException.class);
        } finally {
            zombie.close(Duration.ZERO);
        }
        assertThat(readCommitted("out", 1)).containsExactly("successor");
    }

    @Test
    void aTransactionOpenPastItsTimeoutIsAbortedAndTheAdminClientShowsIt() throws Exception {
        KafkaProducer<String, String> stalled = producer("stalled", 1_000);
        stalled.initTransactions();
        stalled.beginTransaction();
        stalled.send(new ProducerRecord<>("out", 1, "k", "never")).get();
        String during = metrics();
        assertThat(series(during, "capstan_transactions{state=\"Ongoing\"}")).isEqualTo(1);
        assertThat(series(during, "capstan_shard_unstable_records{partition=\"1\",topic=\"out\"}"))
                .as("the open transaction's record, unreadable by read_committed consumers").isEqualTo(1);
        try (Admin admin = Admin.create(broker.clientProps())) {
            TransactionDescription open = admin.describeTransactions(List.of("stalled")).description("stalled").get();
            assertThat(open.state().toString()).isEqualTo("Ongoing");
            assertThat(open.topicPartitions()).containsExactly(new TopicPartition("out", 1));
            Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                    admin.describeTransactions(List.of("stalled")).description("stalled").get().state().toString()).isEqualTo("CompleteAbort"));
            assertThat(admin.listTransactions().all().get()).extracting(TransactionListing::transactionalId).contains("stalled");
        } finally {
            stalled.close(Duration.ZERO);
        }
        TopicPartition out1 = new TopicPartition("out", 1);
        Shard shard = broker.broker().logs().catalog().shard(out1);
        assertThat(shard.lastStableOffset()).as("the abort marker released the stable offset").isEqualTo(shard.highWatermark());
        String after = metrics();
        assertThat(series(after, "capstan_transactions{state=\"CompleteAbort\"}")).isEqualTo(1);
        assertThat(after).doesNotContain("capstan_shard_unstable_records{partition=\"1\",topic=\"out\"}");
        assertThat(readCommitted("out", 0)).isEmpty();
    }

    private String metrics() throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                "http://127.0.0.1:" + broker.broker().adminPort() + "/metrics")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    private static double series(String exposition, String series) {
        return exposition.lines().filter(l -> l.startsWith(series + " ")).mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1)))
                .findFirst().orElseThrow(() -> new AssertionError("no series " + series + " in /metrics:\n" + exposition.lines()
                        .filter(l -> l.contains("transaction") || l.contains("unstable")).toList()));
    }
}
