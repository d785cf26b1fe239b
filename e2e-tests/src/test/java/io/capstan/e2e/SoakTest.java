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
 *       disk (a broker's data directory deleted while it is down), a leader's WAL fsync failing (it must halt; it is
 *       restarted after a power cut), a broker restarted with its wall clock up to a minute off (libfaketime), a
 *       broker cut off from the other two, a flapping link between a leader and a follower, a leader's packets to one follower
 *       dropped (one way), and a controller restart.</li>
 * </ul>
 * Each broker runs in its own network namespace on a bridge the test builds ({@link NetworkLab}; root, as CI runs);
 * the metadata store, the controller and the clients stay reachable from every broker, so the network faults are
 * between brokers.
 * Verdict: every acknowledged acks=all record once, at its offset; acks=1 losses and duplicates counted; no consumed
 * record damaged, no offset read as two different records, every record read the one its producer was told is at
 * that offset (no consumer saw a write the log later lost); the group's committed offsets never go back, nor stay past
 * the high watermark longer than a leader fault may stall writes; every replica byte-identical; and, per fault kind,
 * the time until the affected shard took an acks=all write again (median and max, bounded for the leader faults).
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

    /** The most a broker's clock is set off by {@link Fault#CLOCK_SKEW}, either way. */
    static final int MAX_SKEW_SECONDS = 60;

    enum Fault {
        LEADER_KILL, LEADER_PAUSE, FOLLOWER_PAUSE, RESTART, POWER_CUT, DISK_REPLACED, SYNC_FAILURE, CLOCK_SKEW,
        BROKER_ISOLATED, LINK_FLAP, ONE_WAY_LOSS, CONTROLLER_RESTART
    }

    @TempDir
    Path dir;

    private final BrokerProcess[] brokers = new BrokerProcess[BROKERS];
    private final PowerLoss[] power = new PowerLoss[BROKERS];
    private final int[] skewSeconds = new int[BROKERS];
    private Path failSync;
    private NetworkLab lab;
    private LocalFileMetadataStore store;
    private FailoverController controller;

    @Test
    void aClusterUnderMixedLoadAndRandomFaultsLosesNothingAcknowledged() throws Exception {
        long seconds = Long.getLong("capstan.soak.seconds", 90);
        long seed = Long.getLong("capstan.soak.seed", System.nanoTime());
        // -Dcapstan.soak.faults=SYNC_FAILURE,LINK_FLAP runs only those kinds (to repeat one); by default every kind
        List<Fault> kinds = System.getProperty("capstan.soak.faults", "").isBlank()
                ? Arrays.asList(Fault.values())
                : Arrays.stream(System.getProperty("capstan.soak.faults").split(",")).map(String::trim).map(Fault::valueOf).toList();
        Random random = new Random(seed);
        Path metadata = dir.resolve("metadata");
        Path progress = Path.of("target", "soak-progress.log");
        Files.deleteIfExists(progress);
        org.junit.jupiter.api.Assumptions.assumeTrue(NetworkLab.available(), "network namespaces need root and iproute2 (CI runs as root)");
        if ("1".equals(System.getenv("CAPSTAN_REQUIRE_FAKETIME"))) {
            assertThat(FakeClock.LIBRARY).as("libfaketime (apt-get install faketime)").exists();
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(FakeClock.LIBRARY), "libfaketime is not installed (apt-get install faketime)");
        store = new LocalFileMetadataStore(metadata, 100);
        Path shim = NativeShim.compile("powerloss");
        failSync = NativeShim.compile("failsync");
        lab = new NetworkLab(BROKERS);
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
                        .withNetwork(lab.exec(id), lab.address(id));
                start(id);
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
            committed = new GroupRebalanceTest.CommittedOffsets(BrokerProcess.bootstrap(brokers), GROUP, UNAVAILABLE_MAX_MS);
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
                Fault fault = kinds.get(random.nextInt(kinds.size()));
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
                        seconds - (end - System.nanoTime()) / 1_000_000_000L, seconds, n, fault, ms >= 0 ? ms + " ms until writes" : "healed, not timed",
                        load.acknowledgedCount(), churned.get()), java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            }

            churning.set(false);
            churn.join();
            members.stopAll();
            committed.stop();
            long verified = load.finishAndVerify(client(), PARTITIONS);
            List<String> misread = new ArrayList<>();
            long consumedOffsets = members.history.checkAgainst(load.acknowledged(), misread);
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
            System.out.printf("  group: %d records consumed and checked, %d member replacements, %d committed-offset samples, %d violations"
                    + " (%d skipped while a coordinator moved; a committed offset past the high watermark for at most %d ms); %d topics created,"
                    + " written, read and deleted; replicas byte-identical (%d + %d batches)%n",
                    members.consumed.get(), members.replacements.get(), committed.samples.get(), committed.violations.size(), committed.skipped.get(),
                    committed.longestPastEndMs.get(), churned.get(), replicas.batches(), weakReplicas.batches());
            System.out.printf("  consumers: %d offsets read, each the record its producer was told is there (a write no consumer saw later lost)%n",
                    consumedOffsets);
            assertThat(members.damaged).as("records a consumer found damaged").isEmpty();
            assertThat(members.history.conflicts()).as("offsets read with two different records").isEmpty();
            assertThat(misread).as("records read that are not where their producer was told they are").isEmpty();
            assertThat(members.errors).as("errors a group member saw").isEmpty();
            assertThat(committed.violations).as("committed offsets that went back or past the log end").isEmpty();
            assertThat(churnFailures).as("topic creation, writing, reading and deletion under faults").isEmpty();
            assertThat(churned.get()).as("topics churned").isPositive();
            assertThat(members.consumed.get()).as("records the group consumed").isPositive();
            for (Fault leaderFault : List.of(Fault.LEADER_KILL, Fault.LEADER_PAUSE, Fault.POWER_CUT, Fault.SYNC_FAILURE)) {
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
            if (lab != null) {
                lab.close();
            }
            store.close();
        }
    }

    /**
     * Starts broker {@code id} under its shims: failsync (its WAL fsync fails while a flag file exists), libfaketime (its
     * wall clock {@code skewSeconds[id]} off; the monotonic clock stays true, as on a host whose NTP is wrong) and
     * power-loss; each passes on to the next what it does not fail.
     */
    private void start(int id) throws Exception {
        Map<String, String> env = new java.util.HashMap<>(power[id].environment());
        env.put("LD_PRELOAD", skewSeconds[id] == 0 ? failSync + ":" + env.get("LD_PRELOAD")
                : String.join(":", failSync.toString(), FakeClock.LIBRARY.toString(), env.get("LD_PRELOAD")));
        env.put("CAPSTAN_FAULT_FLAG", failSyncFlag(id).toString());
        env.put("CAPSTAN_FAULT_UNDER", brokers[id].dataDir().toAbsolutePath() + "/");
        env.putAll(FakeClock.environment((skewSeconds[id] >= 0 ? "+" : "") + skewSeconds[id] + "s"));
        brokers[id].withEnvironment(env).start();
    }

    private Path failSyncFlag(int id) {
        return dir.resolve("fail-fsync-" + id);
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
                start(leader);
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
                start(leader);
                return -1;
            }
            case POWER_CUT -> {
                brokers[leader].kill();
                power[leader].cut();
                long ms = untilWrites(load, partition, leader, at);
                start(leader);
                return ms;
            }
            case SYNC_FAILURE -> {
                Files.createFile(failSyncFlag(leader)); // from now on its fsyncs under the data directory fail with EIO
                try {
                    assertThat(brokers[leader].awaitExit(Duration.ofSeconds(30))).as("broker %d halted after a failed WAL fsync", leader).isEqualTo(70);
                } finally {
                    Files.delete(failSyncFlag(leader));
                }
                power[leader].cut(); // what the failed fsync did not make durable is gone, as it may be on a real disk
                long ms = untilWrites(load, partition, leader, at);
                start(leader);
                return ms;
            }
            case CLOCK_SKEW -> {
                int victim = random.nextInt(BROKERS);
                skewSeconds[victim] = random.nextInt(2 * MAX_SKEW_SECONDS + 1) - MAX_SKEW_SECONDS;
                brokers[victim].stop();
                start(victim);
                return -1;
            }
            case BROKER_ISOLATED -> {
                int isolated = random.nextInt(BROKERS);
                for (int b = 0; b < BROKERS; b++) {
                    if (b != isolated) {
                        lab.cut(isolated, b);
                    }
                }
                try {
                    Thread.sleep(3_000 + random.nextInt(4_000)); // the fault's length, not synchronisation
                } finally {
                    lab.heal();
                }
                awaitFollowersCaughtUp();
                return -1;
            }
            case LINK_FLAP -> {
                int follower = s.replicas().stream().filter(r -> r != leader).findFirst().orElseThrow();
                long end = System.nanoTime() + 5_000_000_000L;
                try {
                    while (System.nanoTime() < end) {
                        lab.cut(leader, follower);
                        Thread.sleep(100 + random.nextInt(500)); // the fault schedule, not synchronisation
                        lab.heal();
                        Thread.sleep(100 + random.nextInt(500));
                    }
                } finally {
                    lab.heal();
                }
                awaitFollowersCaughtUp();
                return -1;
            }
            case ONE_WAY_LOSS -> {
                int follower = s.replicas().stream().filter(r -> r != leader).findFirst().orElseThrow();
                lab.drop(leader, lab.address(follower));
                try {
                    await().atMost(Duration.ofSeconds(60)).until(() -> !shard(partition).isr().contains(follower) || shard(partition).leader() != leader);
                } finally {
                    lab.heal();
                }
                awaitFollowersCaughtUp();
                return -1;
            }
            case DISK_REPLACED -> {
                int victim = random.nextInt(BROKERS);
                brokers[victim].kill();
                power[victim].cut();
                deleteTree(brokers[victim].dataDir());
                Files.createDirectories(brokers[victim].dataDir());
                start(victim);
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
                deleteOnce(admin, topic);
                churned.incrementAndGet();
            } catch (Exception | AssertionError e) {
                failures.add(topic + ": " + e);
                return;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(3_000_000_000L); // churn pacing, not synchronisation
        }
    }

    /**
     * DeleteTopics as an application must issue it: a broker stopped after deleting but before answering makes the
     * admin client send it again elsewhere, and that one finds no topic (UNKNOWN_TOPIC_OR_PARTITION, as Kafka answers
     * too). That is a success only if the topic is in fact gone.
     */
    private static void deleteOnce(Admin admin, String topic) throws Exception {
        try {
            admin.deleteTopics(List.of(topic)).all().get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)) {
                throw e;
            }
            assertThat(admin.listTopics().names().get()).as("a deletion answered UNKNOWN_TOPIC_OR_PARTITION: " + topic + " must be gone")
                    .doesNotContain(topic);
            System.out.printf("soak: deleting %s was answered UNKNOWN_TOPIC_OR_PARTITION (taken for a retry after an earlier attempt deleted it); it is gone%n", topic);
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
                if (e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException) {
                    // a broker stopped after creating it but before answering, and the admin client asked another:
                    // Kafka answers a repeated creation the same way. Done, if the topic is there as asked
                    var d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
                    assertThat(d.partitions()).as("%s, created by an earlier attempt", topic).hasSize(1);
                    assertThat(d.partitions().get(0).replicas()).hasSize(3);
                    System.out.printf("soak: creating %s was answered TOPIC_ALREADY_EXISTS (taken for a retry after an earlier attempt created it); it is there as asked%n", topic);
                    return;
                }
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
        final ConsumedHistory history = new ConsumedHistory(PARTITIONS);
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
                        long seq = AcknowledgedRecords.seqOf(r.value());
                        if (!Arrays.equals(r.value(), AcknowledgedRecords.value(seq))) {
                            damaged.add(r.topic() + "-" + r.partition() + "@" + r.offset());
                        }
                        history.consumed(r.partition(), r.offset(), seq);
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

    /**
     * After a network fault heals: every follower has copied what its leader held, so none is still on its way out of an
     * in-sync set for lagging during the fault when the next one starts.
     */
    private void awaitFollowersCaughtUp() {
        ReplicaLogs.awaitFollowersPastNow(brokers, TOPIC, PARTITIONS, BROKERS);
        ReplicaLogs.awaitFollowersPastNow(brokers, WEAK_TOPIC, PARTITIONS, BROKERS);
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
