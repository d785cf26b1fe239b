package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.cluster.controller.FailoverController;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.ShardState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The soak: three broker processes (each under the power-loss shim) and the failover controller for a configurable time
 * ({@code capstan.soak.seconds}; CI runs 90 s, {@code e2e-tests/soak} 30 minutes) under a mixed load, while a scheduler
 * injects a random fault every few seconds and heals it before the next:
 * <ul>
 *   <li>load: an idempotent acks=all producer (1,000 records/s), an acks=1 producer without idempotence (300/s), a
 *       consumer group of two members reading the acks=all topic and committing, one member replaced now and then (a
 *       rebalance), and a topic created, written, read back and deleted every few seconds;</li>
 *   <li>faults: SIGKILL of a leader, SIGSTOP of a leader until a successor takes writes, SIGSTOP of a follower until it
 *       leaves the in-sync set, an orderly restart, a power cut of one broker (its unsynced writes undone), a replaced
 *       disk (a broker's data directory deleted while it is down), and a controller restart.</li>
 * </ul>
 * Verdict: every acknowledged acks=all record once, at its offset; acks=1 losses and duplicates counted; no consumed
 * record damaged; the group's committed offsets never go back; every replica byte-identical; and, per fault kind, the
 * time until the affected shard took an acks=all write again (median and max, bounded for the leader faults).
 */
class SoakTest {
    static final String TOPIC = "soak";
    static final String WEAK_TOPIC = "soak-acks1";
    static final String GROUP = "soak-group";
    static final int PARTITIONS = 3;
    static final int BROKERS = 3;
    static final long LEASE_MS = 2_000;
    static final long REQUEST_TIMEOUT_MS = 5_000;
    /** A leader fault ends when a successor takes writes: a lease, or the producer's request timeout behind a paused one, and slack. */
    static final long UNAVAILABLE_MAX_MS = Math.max(LEASE_MS, REQUEST_TIMEOUT_MS) + 5_000;

    enum Fault { LEADER_KILL, LEADER_PAUSE, FOLLOWER_PAUSE, RESTART, POWER_CUT, DISK_REPLACED, CONTROLLER_RESTART }

    @TempDir
    Path dir;

    private final BrokerProcess[] brokers = new BrokerProcess[BROKERS];
    private final PowerLoss[] power = new PowerLoss[BROKERS];
    private LocalFileMetadataStore store;
    private FailoverController controller;

    @Test
    void aClusterUnderMixedLoadAndRandomFaultsLosesNothingAcknowledged() throws Exception {
        long seconds = Long.getLong("capstan.soak.seconds", 90);
        long seed = Long.getLong("capstan.soak.seed", System.nanoTime());
        Random random = new Random(seed);
        Path metadata = dir.resolve("metadata");
        Path progress = Path.of("target", "soak-progress.log");
        Files.deleteIfExists(progress);
        store = new LocalFileMetadataStore(metadata, 100);
        Path shim = NativeShim.compile("powerloss");
        Map<Fault, List<Long>> unavailable = new TreeMap<>();
        Map<Fault, Integer> counts = new TreeMap<>();
        ShapedLoad load = null;
        ShapedLoad weak = null;
        Members members = null;
        GroupRebalanceTest.CommittedOffsets committed = null;
        Thread churn = null;
        AtomicBoolean churning = new AtomicBoolean(true);
        List<String> churnFailures = new CopyOnWriteArrayList<>();
        AtomicLong churned = new AtomicLong();
        try {
            for (int id = 0; id < BROKERS; id++) {
                Path data = Files.createDirectories(dir.resolve("broker-" + id));
                power[id] = new PowerLoss(shim, data, dir.resolve("powerloss-" + id + ".journal"));
                brokers[id] = new BrokerProcess(data, Path.of("target", "soak-logs", "broker-" + id), Map.of("node.id", String.valueOf(id),
                        "metadata.dir", metadata.toString(), "broker.lease.ms", String.valueOf(LEASE_MS), "replica.lag.time.max.ms", "3000",
                        "replica.fetch.max.wait.ms", "100", "disk.min.free.bytes", "0", "group.initial.rebalance.delay.ms", "0"))
                        .withEnvironment(power[id].environment());
                brokers[id].start();
            }
            controller = new FailoverController(store, System::currentTimeMillis).withPreferredLeaderElection(5_000);
            controller.start(100);
            try (Admin admin = Admin.create(client())) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3).configs(Map.of("min.insync.replicas", "2")),
                        new NewTopic(WEAK_TOPIC, PARTITIONS, (short) 3))).all().get();
            }
            awaitAllInSync();
            load = new ShapedLoad(new KafkaProducer<>(AcknowledgedRecords.failoverProducer(client(), REQUEST_TIMEOUT_MS),
                    new ByteArraySerializer(), new ByteArraySerializer()), TOPIC, PARTITIONS, 1_000);
            Properties weakProps = AcknowledgedRecords.failoverProducer(client(), REQUEST_TIMEOUT_MS);
            weakProps.put("acks", "1");
            weakProps.put("enable.idempotence", "false");
            weak = new ShapedLoad(new KafkaProducer<>(weakProps, new ByteArraySerializer(), new ByteArraySerializer()), WEAK_TOPIC, PARTITIONS, 300);
            members = new Members(client());
            members.start(0);
            members.start(1);
            committed = new GroupRebalanceTest.CommittedOffsets(BrokerProcess.bootstrap(brokers), GROUP);
            Thread sampler = new Thread(committed::sampleUntilStopped, "soak-committed-offsets");
            sampler.setDaemon(true);
            sampler.start();
            churn = new Thread(() -> churnTopics(churning, churned, churnFailures), "soak-topic-churn");
            churn.setDaemon(true);
            churn.start();

            long end = System.nanoTime() + seconds * 1_000_000_000L;
            int n = 0;
            while (System.nanoTime() < end) {
                Thread.sleep(2_000 + random.nextInt(3_000)); // the fault schedule, not synchronisation
                Fault fault = Fault.values()[random.nextInt(Fault.values().length)];
                long ms = inject(fault, random, load);
                counts.merge(fault, 1, Integer::sum);
                if (ms >= 0) {
                    unavailable.computeIfAbsent(fault, f -> new ArrayList<>()).add(ms);
                }
                if (random.nextInt(4) == 0) {
                    int member = random.nextInt(2);
                    members.replace(member); // a rebalance
                }
                awaitAllInSync();
                assertThat(load.failure()).as("acks=all producer error after %s", fault).isNull();
                n++;
                Files.writeString(progress, String.format("soak: %d s of %d, fault %d %s (%s), %d acks=all records acknowledged, %d churned topics%n",
                        seconds - (end - System.nanoTime()) / 1_000_000_000L, seconds, n, fault, ms >= 0 ? ms + " ms until writes" : "no leader moved",
                        load.acknowledgedCount(), churned.get()), java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            }

            churning.set(false);
            churn.join();
            members.stopAll();
            committed.stop();
            long verified = load.finishAndVerify(client(), PARTITIONS);
            AcknowledgedRecords.Tally weakTally = weak.finishAndTally(client(), PARTITIONS);
            ReplicaLogs.awaitCaughtUp(brokers, WEAK_TOPIC, PARTITIONS, BROKERS);
            ReplicaLogs.Comparison replicas = ReplicaLogs.stopAndCompare(brokers, TOPIC, PARTITIONS);
            ReplicaLogs.Comparison weakReplicas = ReplicaLogs.assertIdentical(Arrays.stream(brokers).map(BrokerProcess::dataDir).toList(), WEAK_TOPIC, PARTITIONS);

            System.out.printf("soak: seed %d, %d s, %d faults: %s%n", seed, seconds, n, counts);
            unavailable.forEach((fault, list) -> {
                List<Long> sorted = list.stream().sorted().toList();
                System.out.printf("  %-18s until the shard took acks=all writes: median %d ms, max %d ms (%d)%n", fault,
                        sorted.get(sorted.size() / 2), sorted.get(sorted.size() - 1), sorted.size());
            });
            System.out.printf("  acks=all: %d acknowledged, 0 lost, 0 duplicated; acks=1: %d acknowledged, %d lost, %d duplicated (allowed)%n",
                    verified, weakTally.acknowledged(), weakTally.lost(), weakTally.duplicated());
            System.out.printf("  group: %d records consumed and checked, %d member replacements, %d committed-offset samples, %d going back;"
                    + " (%d skipped while a coordinator moved); %d topics created, written, read and deleted; replicas byte-identical (%d + %d batches)%n",
                    members.consumed.get(), members.replacements.get(), committed.samples.get(), committed.violations.size(), committed.skipped.get(), churned.get(),
                    replicas.batches(), weakReplicas.batches());
            assertThat(members.damaged).as("records a consumer found damaged").isEmpty();
            assertThat(members.errors).as("errors a group member saw").isEmpty();
            assertThat(committed.violations).as("committed offsets that went back or past the log end").isEmpty();
            assertThat(churnFailures).as("topic creation, writing, reading and deletion under faults").isEmpty();
            assertThat(churned.get()).as("topics churned").isPositive();
            assertThat(members.consumed.get()).as("records the group consumed").isPositive();
            for (Fault leaderFault : List.of(Fault.LEADER_KILL, Fault.LEADER_PAUSE, Fault.POWER_CUT)) {
                for (long ms : unavailable.getOrDefault(leaderFault, List.of())) {
                    assertThat(ms).as("ms until writes after %s", leaderFault).isLessThanOrEqualTo(UNAVAILABLE_MAX_MS);
                }
            }
        } finally {
            churning.set(false);
            if (members != null) {
                members.stopAll();
            }
            if (committed != null) {
                committed.stop();
            }
            if (load != null) {
                load.stop();
            }
            if (weak != null) {
                weak.stop();
            }
            if (controller != null) {
                controller.close();
            }
            BrokerProcess.stopAll(brokers);
            store.close();
        }
    }

    /** Injects one fault and heals it; returns the ms until the shard it hit took an acks=all write again, or -1. */
    private long inject(Fault fault, Random random, ShapedLoad load) throws Exception {
        int partition = random.nextInt(PARTITIONS);
        ShardState s = shard(partition);
        int leader = s.leader();
        long at = System.nanoTime();
        switch (fault) {
            case LEADER_KILL -> {
                brokers[leader].kill();
                long ms = untilWrites(load, partition, leader, at);
                brokers[leader].start();
                return ms;
            }
            case LEADER_PAUSE -> {
                Signals.pauseOutsideMetadataWrites(brokers[leader].pid(), dir.resolve("metadata").resolve(".lock"));
                at = System.nanoTime();
                try {
                    return untilWrites(load, partition, leader, at);
                } finally {
                    Signals.send("CONT", brokers[leader].pid());
                }
            }
            case FOLLOWER_PAUSE -> {
                int follower = s.replicas().stream().filter(r -> r != leader).findFirst().orElseThrow();
                Signals.pauseOutsideMetadataWrites(brokers[follower].pid(), dir.resolve("metadata").resolve(".lock"));
                try {
                    await().atMost(Duration.ofSeconds(60)).until(() -> !shard(partition).isr().contains(follower));
                } finally {
                    Signals.send("CONT", brokers[follower].pid());
                }
                return -1;
            }
            case RESTART -> {
                brokers[leader].stop();
                brokers[leader].start();
                return -1;
            }
            case POWER_CUT -> {
                brokers[leader].kill();
                power[leader].cut();
                long ms = untilWrites(load, partition, leader, at);
                brokers[leader].start();
                return ms;
            }
            case DISK_REPLACED -> {
                int victim = random.nextInt(BROKERS);
                brokers[victim].kill();
                power[victim].cut();
                deleteTree(brokers[victim].dataDir());
                Files.createDirectories(brokers[victim].dataDir());
                brokers[victim].start();
                return -1;
            }
            case CONTROLLER_RESTART -> {
                controller.close();
                controller = new FailoverController(store, System::currentTimeMillis).withPreferredLeaderElection(5_000);
                controller.start(100);
                return -1;
            }
            default -> throw new IllegalStateException(fault.name());
        }
    }

    private long untilWrites(ShapedLoad load, int partition, int oldLeader, long since) {
        await().atMost(Duration.ofSeconds(60)).until(() -> shard(partition).leader() >= 0 && shard(partition).leader() != oldLeader);
        return (load.times().awaitAckOfSendAfter(partition, since) - since) / 1_000_000;
    }

    /** Every few seconds: a topic created, ten acks=all records written, read back, the topic deleted. */
    private void churnTopics(AtomicBoolean running, AtomicLong churned, List<String> failures) {
        Properties producerProps = AcknowledgedRecords.failoverProducer(client(), REQUEST_TIMEOUT_MS);
        for (int i = 0; running.get(); i++) {
            String topic = "churn-" + i;
            try (Admin admin = Admin.create(client())) {
                createWhenThreeBrokersLive(admin, topic);
                Map<Long, AcknowledgedRecords.Ack> acked = new java.util.HashMap<>();
                try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer())) {
                    for (long seq = 0; seq < 10; seq++) {
                        var md = producer.send(new ProducerRecord<>(topic, 0, null, AcknowledgedRecords.value(seq))).get();
                        acked.put(seq, new AcknowledgedRecords.Ack(md.partition(), md.offset(), seq));
                    }
                }
                AcknowledgedRecords.verify(client(), topic, 1, acked);
                admin.deleteTopics(List.of(topic)).all().get();
                churned.incrementAndGet();
            } catch (Exception | AssertionError e) {
                failures.add(topic + ": " + e);
                return;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(3_000_000_000L); // churn pacing, not synchronisation
        }
    }

    /**
     * With a broker down, a replication factor of 3 is refused (INVALID_REPLICATION_FACTOR, as in Kafka): an application
     * tries again, and so does this, for up to a minute.
     */
    private static void createWhenThreeBrokersLive(Admin admin, String topic) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            try {
                admin.createTopics(List.of(new NewTopic(topic, 1, (short) 3).configs(Map.of("min.insync.replicas", "2")))).all().get();
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.InvalidReplicationFactorException) || System.nanoTime() > deadline) {
                    throw e;
                }
                java.util.concurrent.locks.LockSupport.parkNanos(500_000_000L); // retry pacing, not synchronisation
            }
        }
    }

    /** The consumer group: members that poll, check every record's bytes and commit; any may be replaced (a rebalance). */
    static final class Members {
        final AtomicLong consumed = new AtomicLong();
        final AtomicLong replacements = new AtomicLong();
        final List<String> damaged = new CopyOnWriteArrayList<>();
        final List<String> errors = new CopyOnWriteArrayList<>();
        private final Properties client;
        private final Thread[] threads = new Thread[2];
        private final AtomicBoolean[] running = {new AtomicBoolean(), new AtomicBoolean()};

        Members(Properties client) {
            this.client = client;
        }

        void start(int member) {
            running[member] = new AtomicBoolean(true);
            AtomicBoolean mine = running[member];
            threads[member] = new Thread(() -> consume(mine), "soak-member-" + member);
            threads[member].setDaemon(true);
            threads[member].start();
        }

        void replace(int member) throws InterruptedException {
            stop(member);
            start(member);
            replacements.incrementAndGet();
        }

        void stopAll() throws InterruptedException {
            for (int m = 0; m < threads.length; m++) {
                stop(m);
            }
        }

        private void stop(int member) throws InterruptedException {
            running[member].set(false);
            if (threads[member] != null) {
                threads[member].join();
            }
        }

        private void consume(AtomicBoolean mine) {
            Properties p = new Properties();
            p.putAll(client);
            p.put("group.id", GROUP);
            p.put("enable.auto.commit", "false");
            p.put("auto.offset.reset", "earliest");
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                consume(consumer, mine);
            } catch (RuntimeException e) {
                errors.add(Thread.currentThread().getName() + ": " + e);
            }
        }

        private void consume(KafkaConsumer<byte[], byte[]> consumer, AtomicBoolean mine) {
            {
                consumer.subscribe(List.of(TOPIC));
                while (mine.get()) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        if (!Arrays.equals(r.value(), AcknowledgedRecords.value(AcknowledgedRecords.seqOf(r.value())))) {
                            damaged.add(r.topic() + "-" + r.partition() + "@" + r.offset());
                        }
                        consumed.incrementAndGet();
                    }
                    try {
                        consumer.commitSync(Duration.ofSeconds(10));
                    } catch (org.apache.kafka.common.errors.RetriableException | org.apache.kafka.clients.consumer.CommitFailedException
                             | org.apache.kafka.common.errors.RebalanceInProgressException e) {
                        // a coordinator moving or a rebalance: the records are redelivered (at least once) and committed later
                    }
                }
            }
        }
    }

    private static void deleteTree(Path root) throws java.io.IOException {
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private void awaitAllInSync() {
        StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, BROKERS);
        StoreShards.awaitAllInSync(store, WEAK_TOPIC, PARTITIONS, BROKERS);
    }

    private ShardState shard(int partition) {
        return StoreShards.shard(store, TOPIC, partition);
    }

    private Properties client() {
        return ClientSecurity.NONE.client(BrokerProcess.bootstrap(brokers));
    }
}
