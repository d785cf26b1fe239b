package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.cluster.controller.FailoverController;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.ShardState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A transactional checker in the Jepsen style on three broker processes: concurrent transactional producers each write
 * one record to every shard of a 3-replica topic per transaction, commit most and abort every fourth, while the
 * broker coordinating transactions is SIGKILLed and restarted, then a shard's leader likewise. Each outcome is
 * recorded as the client saw it: committed, aborted, or unknown (the client got an error, so either may have
 * happened). Afterwards a read_committed consumer must see every committed transaction whole, no aborted record, each
 * unknown transaction all or nothing, and no record twice; the producers must have committed again after each kill;
 * and every replica's log (data batches and markers) must be identical. Beside them, through the same kills, a
 * consume-transform-produce copier (a consumer group member, read_committed, its offsets sent to each transaction)
 * copies a pre-filled source topic: the copy must hold every source record exactly once, and the group's committed
 * offsets must be the source's ends, so offsets and output were committed together.
 */
class TransactionFaultTest {
    static final String TOPIC = "ledger";
    static final int PARTITIONS = 3;
    static final int BROKERS = 3;
    static final int WRITERS = 2;
    static final long LEASE_MS = 2_000;
    static final int SOURCE_RECORDS = 3_000;

    enum Outcome { COMMITTED, ABORTED, UNKNOWN }

    @TempDir
    Path dir;

    private final BrokerProcess[] brokers = new BrokerProcess[BROKERS];
    private LocalFileMetadataStore store;
    private final Map<String, Outcome> outcomes = new ConcurrentHashMap<>();
    private final AtomicInteger committed = new AtomicInteger();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> writers = new ArrayList<>();
    private final AtomicBoolean copierStop = new AtomicBoolean();
    private final AtomicInteger copierRestarts = new AtomicInteger();

    @AfterEach
    void stopEverything() throws InterruptedException {
        stop.set(true);
        copierStop.set(true);
        for (Thread w : writers) {
            w.join(60_000);
        }
        BrokerProcess.stopAll(brokers);
    }

    @Test
    void transactionsStayAtomicThroughCoordinatorAndLeaderKills() throws Exception {
        Path metadata = dir.resolve("metadata");
        store = new LocalFileMetadataStore(metadata, 100);
        for (int id = 0; id < BROKERS; id++) {
            brokers[id] = new BrokerProcess(dir.resolve("broker-" + id), Path.of("target", "transaction-fault-logs", "broker-" + id),
                    Map.of("node.id", String.valueOf(id), "metadata.dir", metadata.toString(), "broker.lease.ms", String.valueOf(LEASE_MS),
                            "replica.lag.time.max.ms", "3000", "replica.fetch.max.wait.ms", "100", "disk.min.free.bytes", "0",
                            "default.replication.factor", "3", "min.insync.replicas", "2"));
            brokers[id].start();
        }
        try (FailoverController controller = new FailoverController(store, System::currentTimeMillis)) {
            controller.start(100);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", BrokerProcess.bootstrap(brokers)))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3))).all().get();
            }
            StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, BROKERS);
            Map<TopicPartition, Long> sourceEnds = fillSource();
            Thread copier = new Thread(this::copy, "txn-copier");
            writers.add(copier);
            copier.start();
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                Thread t = new Thread(() -> write(writer), "txn-writer-" + w);
                writers.add(t);
                t.start();
            }
            awaitCommits(10, "before any fault");
            StoreShards.awaitAllInSync(store, "__capstan_transactions", 1, BROKERS);

            int coordinator = StoreShards.shard(store, "__capstan_transactions", 0).leader();
            brokers[coordinator].kill();
            System.out.printf("SIGKILL of broker %d, the transaction coordinator%n", coordinator);
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                int leader = StoreShards.shard(store, "__capstan_transactions", 0).leader();
                return leader >= 0 && leader != coordinator;
            });
            awaitCommits(10, "after the coordinator was killed");
            brokers[coordinator].start();
            StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, BROKERS);

            ShardState shard = StoreShards.shard(store, TOPIC, 1);
            int leader = shard.leader();
            brokers[leader].kill();
            System.out.printf("SIGKILL of broker %d, the leader of %s-1%n", leader, TOPIC);
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                int now = StoreShards.shard(store, TOPIC, 1).leader();
                return now >= 0 && now != leader;
            });
            awaitCommits(10, "after a shard leader was killed");
            brokers[leader].start();
            StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, BROKERS);
            awaitCommits(5, "with every broker back");
            stop.set(true);
            awaitCopied(sourceEnds);
            copierStop.set(true);
            for (Thread w : writers) {
                w.join(120_000);
                assertThat(w.isAlive()).as("%s stopped", w.getName()).isFalse();
            }
            check(readCommitted(TOPIC));
            checkCopy(readCommitted(COPY), sourceEnds);
        }
        ReplicaLogs.Comparison compared = ReplicaLogs.stopAndCompare(brokers, TOPIC, PARTITIONS);
        System.out.printf("every replica of %s identical: %d batches compared%n", TOPIC, compared.batches());
    }

    /** One transactional id: transactions until stopped; after any error, a new producer instance (fencing the old one). */
    private void write(int writer) {
        int n = 0;
        while (!stop.get()) {
            KafkaProducer<String, String> producer = null;
            try {
                producer = producer(writer);
                producer.initTransactions();
                while (!stop.get()) {
                    String txn = "w" + writer + "-" + n++;
                    outcomes.put(txn, Outcome.UNKNOWN);
                    producer.beginTransaction();
                    for (int p = 0; p < PARTITIONS; p++) {
                        producer.send(new ProducerRecord<>(TOPIC, p, txn, txn + "@" + p));
                    }
                    if (n % 4 == 0) {
                        producer.abortTransaction();
                        outcomes.put(txn, Outcome.ABORTED);
                    } else {
                        producer.commitTransaction();
                        outcomes.put(txn, Outcome.COMMITTED);
                        committed.incrementAndGet();
                    }
                }
            } catch (KafkaException e) {
                System.out.printf("writer %d: %s; a new instance takes over%n", writer, e);
            } finally {
                if (producer != null) {
                    producer.close(Duration.ZERO);
                }
            }
        }
    }

    private KafkaProducer<String, String> producer(int writer) {
        Properties p = new Properties();
        p.put("bootstrap.servers", BrokerProcess.bootstrap(brokers));
        p.put("transactional.id", writer < 0 ? "copier" : "writer-" + writer);
        p.put("transaction.timeout.ms", "10000");
        p.put("request.timeout.ms", "5000");
        p.put("delivery.timeout.ms", "30000");
        p.put("max.block.ms", "30000");
        p.put("retry.backoff.ms", "50");
        p.put("reconnect.backoff.max.ms", "200");
        p.put("metadata.max.age.ms", "2000");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    /** Availability: the writers commit {@code more} transactions within a bound, or the phase named fails the test. */
    private void awaitCommits(int more, String phase) {
        int target = committed.get() + more;
        long start = System.nanoTime();
        await().atMost(Duration.ofSeconds(90)).until(() -> committed.get() >= target);
        System.out.printf("%s: %d more transactions committed in %d ms%n", phase, more, (System.nanoTime() - start) / 1_000_000);
    }

    private List<ConsumerRecord<String, String>> readCommitted(String topic) {
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            tps.add(new TopicPartition(topic, p));
        }
        Properties props = new Properties();
        props.put("bootstrap.servers", BrokerProcess.bootstrap(brokers));
        props.put("isolation.level", "read_committed");
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            // every transaction is decided once the writers are stopped: the stable offsets reach the high watermarks
            await().atMost(Duration.ofSeconds(60)).until(() -> c.endOffsets(tps).equals(uncommittedEnds(tps)));
            Map<TopicPartition, Long> ends = c.endOffsets(tps);
            c.assign(tps);
            c.seekToBeginning(tps);
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                c.poll(Duration.ofMillis(100)).forEach(out::add);
                return tps.stream().allMatch(tp -> c.position(tp) >= ends.get(tp));
            });
        }
        return out;
    }

    static final String SOURCE = "source";
    static final String COPY = "copy";
    static final String COPIER_GROUP = "copier";

    /** The copier's input, written before the faults by an idempotent producer: each record once. */
    private Map<TopicPartition, Long> fillSource() throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", BrokerProcess.bootstrap(brokers)))) {
            admin.createTopics(List.of(new NewTopic(SOURCE, PARTITIONS, (short) 3), new NewTopic(COPY, PARTITIONS, (short) 3))).all().get();
        }
        Properties p = AcknowledgedRecords.failoverProducer(new Properties(), 5_000);
        p.put("bootstrap.servers", BrokerProcess.bootstrap(brokers));
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < SOURCE_RECORDS; i++) {
                producer.send(new ProducerRecord<>(SOURCE, i % PARTITIONS, "s" + i, "s" + i));
            }
            producer.flush();
        }
        List<TopicPartition> tps = new ArrayList<>();
        for (int p2 = 0; p2 < PARTITIONS; p2++) {
            tps.add(new TopicPartition(SOURCE, p2));
        }
        return uncommittedEnds(tps);
    }

    /**
     * Consume-transform-produce with exactly-once: each poll's records copied in one transaction with the consumer's
     * positions; after any error both clients are replaced, and the new member resumes from the committed offsets.
     */
    private void copy() {
        while (!copierStop.get()) {
            Properties cp = new Properties();
            cp.put("bootstrap.servers", BrokerProcess.bootstrap(brokers));
            cp.put("group.id", COPIER_GROUP);
            cp.put("isolation.level", "read_committed");
            cp.put("enable.auto.commit", "false");
            cp.put("auto.offset.reset", "earliest");
            cp.put("max.poll.records", "50");
            cp.put("session.timeout.ms", "10000");
            cp.put("metadata.max.age.ms", "2000");
            cp.put("request.timeout.ms", "5000");
            cp.put("default.api.timeout.ms", "30000");
            KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp, new StringDeserializer(), new StringDeserializer());
            KafkaProducer<String, String> producer = producer(-1);
            try {
                producer.initTransactions();
                consumer.subscribe(List.of(SOURCE));
                while (!copierStop.get()) {
                    org.apache.kafka.clients.consumer.ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(100));
                    if (records.isEmpty()) {
                        continue;
                    }
                    producer.beginTransaction();
                    Map<TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> positions = new HashMap<>();
                    for (ConsumerRecord<String, String> r : records) {
                        producer.send(new ProducerRecord<>(COPY, r.partition(), r.key(), SOURCE + "-" + r.partition() + "@" + r.offset()));
                        positions.put(new TopicPartition(r.topic(), r.partition()), new org.apache.kafka.clients.consumer.OffsetAndMetadata(r.offset() + 1));
                    }
                    producer.sendOffsetsToTransaction(positions, consumer.groupMetadata());
                    producer.commitTransaction();
                }
            } catch (KafkaException e) {
                copierRestarts.incrementAndGet();
                System.out.printf("copier: %s; a new consumer and producer take over%n", e);
            } finally {
                producer.close(Duration.ZERO);
                consumer.close(Duration.ZERO);
            }
        }
    }

    /** The copier is done when its group's committed offsets reach the source's ends. */
    private void awaitCopied(Map<TopicPartition, Long> sourceEnds) {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", BrokerProcess.bootstrap(brokers)))) {
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> {
                Map<TopicPartition, Long> committedOffsets = new HashMap<>();
                admin.listConsumerGroupOffsets(COPIER_GROUP).partitionsToOffsetAndMetadata().get()
                        .forEach((tp, o) -> committedOffsets.put(tp, o == null ? -1 : o.offset()));
                return committedOffsets.equals(sourceEnds);
            });
        }
    }

    /** Every source record copied exactly once, nothing else. */
    private void checkCopy(List<ConsumerRecord<String, String>> copied, Map<TopicPartition, Long> sourceEnds) {
        List<String> values = copied.stream().map(ConsumerRecord::value).toList();
        List<String> expected = new ArrayList<>();
        sourceEnds.forEach((tp, end) -> {
            for (long o = 0; o < end; o++) {
                expected.add(SOURCE + "-" + tp.partition() + "@" + o);
            }
        });
        assertThat(values).as("the copy holds each source record once").doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(expected);
        System.out.printf("copier: %d source records copied exactly once, offsets committed with them; %d restarts of the copier%n",
                values.size(), copierRestarts.get());
    }

    private Map<TopicPartition, Long> uncommittedEnds(List<TopicPartition> tps) {
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(Map.of("bootstrap.servers", BrokerProcess.bootstrap(brokers)),
                new StringDeserializer(), new StringDeserializer())) {
            return c.endOffsets(tps);
        }
    }

    private void check(List<ConsumerRecord<String, String>> records) {
        Map<String, List<String>> seen = new HashMap<>();
        for (ConsumerRecord<String, String> r : records) {
            assertThat(r.value()).as("record at %s-%d@%d", r.topic(), r.partition(), r.offset()).isEqualTo(r.key() + "@" + r.partition());
            seen.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
        }
        int whole = 0;
        int unknownVisible = 0;
        for (Map.Entry<String, List<String>> e : seen.entrySet()) {
            Outcome outcome = outcomes.get(e.getKey());
            assertThat(outcome).as("transaction %s was never attempted", e.getKey()).isNotNull();
            assertThat(outcome).as("an aborted transaction's records are never read (%s)", e.getKey()).isNotEqualTo(Outcome.ABORTED);
            assertThat(e.getValue()).as("transaction %s is read whole and once", e.getKey()).hasSize(PARTITIONS).doesNotHaveDuplicates();
            if (outcome == Outcome.UNKNOWN) {
                unknownVisible++;
            }
            whole++;
        }
        long committedCount = outcomes.values().stream().filter(o -> o == Outcome.COMMITTED).count();
        outcomes.forEach((txn, outcome) -> {
            if (outcome == Outcome.COMMITTED) {
                assertThat(seen).as("committed transaction %s is read", txn).containsKey(txn);
            }
        });
        System.out.printf("checked %d records: %d committed transactions whole, %d aborted never seen, %d unknown (%d of them committed)%n",
                records.size(), committedCount, outcomes.values().stream().filter(o -> o == Outcome.ABORTED).count(),
                outcomes.values().stream().filter(o -> o == Outcome.UNKNOWN).count(), unknownVisible);
        assertThat(whole).isGreaterThanOrEqualTo((int) committedCount);
    }
}
