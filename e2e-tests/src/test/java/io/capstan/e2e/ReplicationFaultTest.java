package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.cluster.controller.FailoverController;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.ShardState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replication under real faults: three broker JVMs share a local metadata store, a controller runs here, and an
 * idempotent acks=all producer writes continuously to a 3-shard topic with 3 replicas and min.insync.replicas=2.
 * Each cycle does one fault: SIGKILL the leader of a shard (then restart it), SIGSTOP a follower past the lag limit
 * (then SIGCONT), a rolling restart of all brokers with SIGTERM (controlled shutdown), or SIGSTOP of a shard's leader
 * until its lease runs out and a successor takes writes (then SIGCONT: it must step down); meanwhile the controller
 * hands leadership back to preferred replicas every 5 s. Afterwards every acknowledged record must be
 * read back exactly once, at its acknowledged offset, in send order per shard, with no gaps. Cycles:
 * -Dcapstan.replication.cycles (CI: 4, one of each). Each failover's produce unavailability (kill or pause until the
 * first record sent after it is acknowledged) must stay within {@link #UNAVAILABLE_MAX_MS}. Runs in the clear and again with SASL_SSL on every listener, replication
 * included (followers authenticate as the broker user; ACLs on).
 */
class ReplicationFaultTest {
    static final String TOPIC = "replicated";
    static final int PARTITIONS = 3;
    static final int BROKERS = 3;
    static final long LEASE_MS = 2_000;
    /** The producer's request timeout: a request stuck at a paused leader fails after it and is retried elsewhere. */
    static final long REQUEST_TIMEOUT_MS = 5_000;
    /**
     * The bound on each failover's produce unavailability. A killed leader: its lease is ended about 1.25 s after its
     * last renewal (decision 0014) and the producer retries at once. A paused leader: its lease runs out (2 s) but
     * the producer's request to it fails only at its request timeout. Plus 3 s for metadata refresh, retry back-off
     * and a loaded 2-core CI machine.
     */
    static final long UNAVAILABLE_MAX_MS = Math.max(LEASE_MS, REQUEST_TIMEOUT_MS) + 3_000;

    @TempDir
    Path dir;


    private final BrokerProcess[] brokers = new BrokerProcess[BROKERS];
    private ShapedLoad load;
    private ShapedLoad weakLoad;
    static final String WEAK_TOPIC = "replicated-acks1";
    private LocalFileMetadataStore store;

    private ClientSecurity security = ClientSecurity.NONE;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"PLAINTEXT", "SASL_SSL"})
    void everyAcknowledgedRecordSurvivesFailoversPausesAndRollingRestarts(String protocol) throws Exception {
        security = protocol.equals("SASL_SSL") ? ClientSecurity.saslSsl(java.nio.file.Files.createDirectories(dir.resolve("tls")))
                : ClientSecurity.NONE;
        int cycles = Integer.getInteger("capstan.replication.cycles", 4);
        long seed = Long.getLong("capstan.replication.seed", System.nanoTime());
        Random random = new Random(seed);
        Path metadata = dir.resolve("metadata");
        store = new LocalFileMetadataStore(metadata, 100);
        security.createUsers(store);
        for (int id = 0; id < BROKERS; id++) {
            Map<String, String> settings = new HashMap<>(security.brokerSettings());
            settings.putAll(Map.of("node.id", String.valueOf(id), "metadata.dir", metadata.toString(), "broker.lease.ms", String.valueOf(LEASE_MS),
                    "replica.lag.time.max.ms", "3000", "replica.fetch.max.wait.ms", "100", "disk.min.free.bytes", "0"));
            brokers[id] = new BrokerProcess(dir.resolve("broker-" + id), Path.of("target", "replication-logs", protocol, "broker-" + id), settings);
            brokers[id].start();
        }
        List<Long> unavailableMs = new ArrayList<>();
        int failovers = 0;
        try (FailoverController controller = new FailoverController(store, System::currentTimeMillis).withPreferredLeaderElection(5_000)) {
            controller.start(100);
            try (Admin admin = Admin.create(security.client(bootstrap()))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3).configs(Map.of("min.insync.replicas", "2")))).all().get();
            }
            awaitFullyReplicated();
            KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps(), new ByteArraySerializer(), new ByteArraySerializer());
            load = new ShapedLoad(producer, TOPIC, PARTITIONS, Long.getLong("capstan.replication.rate", 3_000));
            // beside it, what Kafka lets a weaker producer lose: acks=1 without idempotence, on a topic of its own
            try (Admin admin = Admin.create(security.client(bootstrap()))) {
                admin.createTopics(List.of(new NewTopic(WEAK_TOPIC, PARTITIONS, (short) 3))).all().get();
            }
            Properties weakProps = producerProps();
            weakProps.put("acks", "1");
            weakProps.put("enable.idempotence", "false");
            weakLoad = new ShapedLoad(new KafkaProducer<>(weakProps, new ByteArraySerializer(), new ByteArraySerializer()), WEAK_TOPIC, PARTITIONS, 500);
            for (int cycle = 1; cycle <= cycles; cycle++) {
                Thread.sleep(500 + random.nextInt(1000)); // the fault schedule, not synchronisation
                int fault = cycle <= 4 ? cycle - 1 : random.nextInt(4);
                long before = load.acknowledgedCount();
                if (fault == 0) {
                    int partition = random.nextInt(PARTITIONS);
                    int leader = shard(partition).leader();
                    long counted = controller.failovers();
                    long killedAt = System.nanoTime();
                    brokers[leader].kill();
                    await().atMost(Duration.ofSeconds(60)).until(() -> shard(partition).leader() >= 0 && shard(partition).leader() != leader);
                    // every shard the killed broker led failed over, this one among them: counted by the controller
                    assertThat(controller.failovers()).as("failovers the controller counted").isGreaterThan(counted);
                    long firstAckAfter = load.times().awaitAckOfSendAfter(partition, killedAt);
                    unavailableMs.add((firstAckAfter - killedAt) / 1_000_000);
                    failovers++;
                    brokers[leader].start();
                    System.out.printf("cycle %d: SIGKILL of broker %d (leader of shard %d); the first record sent to that shard after it was acknowledged %d ms after the kill%n",
                            cycle, leader, partition, unavailableMs.get(unavailableMs.size() - 1));
                } else if (fault == 1) {
                    int partition = random.nextInt(PARTITIONS);
                    ShardState s = shard(partition);
                    int follower = s.replicas().stream().filter(r -> r != s.leader()).findFirst().orElseThrow();
                    Signals.pauseOutsideMetadataWrites(brokers[follower].pid(), dir.resolve("metadata").resolve(".lock"));
                    await().atMost(Duration.ofSeconds(60)).until(() -> !shard(partition).isr().contains(follower));
                    Signals.send("CONT", brokers[follower].pid());
                    System.out.printf("cycle %d: SIGSTOP of broker %d (follower of shard %d) until it left the ISR, then SIGCONT%n",
                            cycle, follower, partition);
                } else if (fault == 3) {
                    // a stalled leader (a long GC pause, a hung disk): its port still accepts, so only its lease ends it
                    int partition = random.nextInt(PARTITIONS);
                    int leader = shard(partition).leader();
                    Signals.pauseOutsideMetadataWrites(brokers[leader].pid(), dir.resolve("metadata").resolve(".lock"));
                    long pausedAt = System.nanoTime(); // records sent from now on cannot be acknowledged by the paused leader
                    try {
                        await().atMost(Duration.ofSeconds(60)).until(() -> shard(partition).leader() >= 0 && shard(partition).leader() != leader);
                        long firstAckAfter = load.times().awaitAckOfSendAfter(partition, pausedAt);
                        unavailableMs.add((firstAckAfter - pausedAt) / 1_000_000);
                        failovers++;
                    } finally {
                        Signals.send("CONT", brokers[leader].pid());
                    }
                    System.out.printf("cycle %d: SIGSTOP of broker %d (leader of shard %d) until a successor took writes (%d ms), then SIGCONT%n",
                            cycle, leader, partition, unavailableMs.get(unavailableMs.size() - 1));
                } else {
                    for (int id = 0; id < BROKERS; id++) {
                        brokers[id].stop();
                        brokers[id].start();
                        awaitFullyReplicated();
                    }
                    System.out.printf("cycle %d: rolling restart of all %d brokers (SIGTERM, one at a time)%n", cycle, BROKERS);
                }
                awaitFullyReplicated();
                assertThat(load.failure()).as("producer error").isNull();
                System.out.printf("cycle %d/%d done: %d records acknowledged (%d new)%n", cycle, cycles, load.acknowledgedCount(), load.acknowledgedCount() - before);
            }
            long verified = load.finishAndVerify(security.client(bootstrap()), PARTITIONS);
            AcknowledgedRecords.Tally weak = weakLoad.finishAndTally(security.client(bootstrap()), PARTITIONS);
            System.out.printf("acks=1 without idempotence beside it: %d sent, %d acknowledged, %d of them lost, %d duplicated (both allowed, as in Kafka)%n",
                    weakLoad.sent(), weak.acknowledged(), weak.lost(), weak.duplicated());
            List<Long> sorted = new ArrayList<>(unavailableMs);
            sorted.sort(Long::compare);
            System.out.printf("replication fault test (" + protocol + "): seed %d, %d cycles, %d leader failovers, %d records acknowledged, 0 lost, 0 duplicated;"
                    + " produce unavailability per failover: median %d ms, max %d ms%n", seed, cycles, failovers, verified,
                    sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2), sorted.isEmpty() ? 0 : sorted.get(sorted.size() - 1));
            assertThat(failovers).isPositive();
            // the consumer above read the leaders; now every replica, from its own disk
            ReplicaLogs.awaitCaughtUp(brokers, WEAK_TOPIC, PARTITIONS, BROKERS);
            ReplicaLogs.Comparison replicas = ReplicaLogs.stopAndCompare(brokers, TOPIC, PARTITIONS);
            ReplicaLogs.assertIdentical(java.util.Arrays.stream(brokers).map(BrokerProcess::dataDir).toList(), WEAK_TOPIC, PARTITIONS);
            System.out.printf("all %d replicas of each of %d shards hold the same batches: %d compared byte for byte%n",
                    BROKERS, PARTITIONS, replicas.batches());
            assertThat(sorted.get(sorted.size() - 1)).as("produce unavailability of the slowest failover (ms)").isLessThanOrEqualTo(UNAVAILABLE_MAX_MS);
        } finally {
            BrokerProcess.stopAll(brokers);
            store.close();
        }
    }

    private String bootstrap() {
        return BrokerProcess.bootstrap(brokers);
    }

    private ShardState shard(int partition) {
        return StoreShards.shard(store, TOPIC, partition);
    }

    /** Every shard led and with all three replicas in sync again. */
    private void awaitFullyReplicated() {
        StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, BROKERS);
    }


    private Properties producerProps() {
        return AcknowledgedRecords.failoverProducer(security.client(bootstrap()), REQUEST_TIMEOUT_MS);
    }
}
