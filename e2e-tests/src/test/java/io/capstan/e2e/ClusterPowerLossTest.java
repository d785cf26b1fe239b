package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.cluster.controller.FailoverController;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A power cut of a whole replicated cluster: three broker processes, each with the power-loss shim over its own data
 * directory (PowerLoss), the failover controller running (as the operator would, on a machine that keeps its power),
 * an idempotent acks=all producer. At a random moment every broker is SIGKILLed and every write any of them had not
 * fsynced is undone, then all three start again. With the default log.flush.policy=always, 0 acknowledged records may
 * be lost: an acknowledgement means every in-sync replica's copy was synced, and a follower counts towards the high
 * watermark only with what it has made durable. Checked after every cut; at the end every replica is compared byte for byte.
 */
class ClusterPowerLossTest {
    static final String TOPIC = "blackout";
    static final int PARTITIONS = 3;
    static final int BROKERS = 3;

    @TempDir
    Path dir;

    private final BrokerProcess[] brokers = new BrokerProcess[BROKERS];

    @Test
    void aPowerCutOfEveryBrokerLosesNothingAcknowledged() throws Exception {
        int cycles = Integer.getInteger("capstan.powerloss.cycles", 2);
        long seed = Long.getLong("capstan.powerloss.seed", System.nanoTime());
        Random random = new Random(seed);
        Path metadata = dir.resolve("metadata");
        Path shim = NativeShim.compile("powerloss");
        PowerLoss[] power = new PowerLoss[BROKERS];
        Map<Long, AcknowledgedRecords.Ack> acked = new ConcurrentHashMap<>();
        AtomicLong nextSeq = new AtomicLong();
        long undone = 0;
        long checked = 0;
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(metadata, 100);
             FailoverController controller = new FailoverController(store, System::currentTimeMillis)) {
            controller.start(100);
            for (int id = 0; id < BROKERS; id++) {
                Path data = Files.createDirectories(dir.resolve("broker-" + id));
                power[id] = new PowerLoss(shim, data, dir.resolve("powerloss-" + id + ".journal"));
                brokers[id] = new BrokerProcess(data, Path.of("target", "cluster-powerloss-logs", "broker-" + id), Map.of("node.id", String.valueOf(id),
                        "metadata.dir", metadata.toString(), "broker.lease.ms", "3000", "replica.lag.time.max.ms", "5000",
                        "replica.fetch.max.wait.ms", "100", "disk.min.free.bytes", "0"))
                        .withEnvironment(power[id].environment());
                brokers[id].start();
            }
            try (Admin admin = Admin.create(client())) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3).configs(Map.of("min.insync.replicas", "2")))).all().get();
            }
            StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, BROKERS);
            for (int cycle = 1; cycle <= cycles; cycle++) {
                AtomicReference<Exception> sendFailure = new AtomicReference<>();
                AtomicBoolean running = new AtomicBoolean(true);
                AtomicLong cutAt = new AtomicLong(Long.MAX_VALUE);
                KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(AcknowledgedRecords.failoverProducer(client(), 5000),
                        new ByteArraySerializer(), new ByteArraySerializer());
                Thread load = new Thread(() -> {
                    long start = System.nanoTime();
                    long sent = 0;
                    while (running.get()) {
                        long due = start + sent++ * 1_000_000_000L / 2_000; // load shaping, not synchronisation
                        java.util.concurrent.locks.LockSupport.parkNanos(due - System.nanoTime());
                        long seq = nextSeq.getAndIncrement();
                        try {
                            producer.send(new ProducerRecord<>(TOPIC, (int) (seq % PARTITIONS), null, AcknowledgedRecords.value(seq)), (md, e) -> {
                                if (e == null) {
                                    acked.put(seq, new AcknowledgedRecords.Ack(md.partition(), md.offset(), seq));
                                } else if (System.nanoTime() < cutAt.get()) {
                                    sendFailure.compareAndSet(null, e);
                                }
                            });
                        } catch (IllegalStateException closed) {
                            return; // closed after the cut
                        }
                    }
                }, "cluster-powerloss-load");
                load.start();
                Thread.sleep(2000 + random.nextInt(2000)); // the fault schedule, not synchronisation
                cutAt.set(System.nanoTime());
                for (BrokerProcess b : brokers) {
                    b.kill();
                }
                running.set(false);
                producer.close(Duration.ZERO);
                load.join();
                long cycleUndone = 0;
                for (PowerLoss p : power) {
                    cycleUndone += p.cut().writesUndone();
                }
                undone += cycleUndone;
                assertThat(sendFailure.get()).as("producer error before the power cut").isNull();
                for (BrokerProcess b : brokers) {
                    b.start();
                }
                List<AcknowledgedRecords.Ack> lost = AcknowledgedRecords.lost(client(), TOPIC, PARTITIONS, new HashMap<>(acked));
                checked = acked.size();
                System.out.printf("cycle %d/%d: power cut of all %d brokers undid %d unsynced writes; %d acknowledged records checked, %d lost%n",
                        cycle, cycles, BROKERS, cycleUndone, acked.size(), lost.size());
                assertThat(lost).as("acknowledged records lost by a power cut of the whole cluster (log.flush.policy=always)").isEmpty();
                StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, BROKERS);
            }
            ReplicaLogs.Comparison replicas = ReplicaLogs.stopAndCompare(brokers, TOPIC, PARTITIONS);
            System.out.printf("cluster power-loss test: seed %d, %d cuts, %d unsynced writes undone, %d acknowledged records, 0 lost;"
                    + " replicas byte-identical (%d batches)%n", seed, cycles, undone, checked, replicas.batches());
            assertThat(undone).as("the cuts took unsynced writes away").isPositive();
        } finally {
            BrokerProcess.stopAll(brokers);
        }
    }

    private Properties client() {
        return ClientSecurity.NONE.client(BrokerProcess.bootstrap(brokers));
    }
}
