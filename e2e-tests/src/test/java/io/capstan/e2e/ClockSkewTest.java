package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.ShardStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * Brokers whose clocks disagree with the controller's and each other's by a minute or more (libfaketime, from Debian's
 * faketime package): broker 0 runs 60 s behind, broker 1 60 s ahead, broker 2 on time, and the controller, in a
 * process of its own, 90 s behind. Leases are judged by when
 * renewals arrive, not by the expiry a broker writes with its own clock, so the broker behind is never taken for dead,
 * and the broker ahead, paused while it leads, loses its leaderships about one lease (6 s) after its last renewal
 * rather than the minute its clock would add. Under an idempotent acks=all load throughout: every acknowledged record
 * read back once and in order, every replica's records and offsets identical (ReplicaLogs).
 */
class ClockSkewTest {
    static final String TOPIC = "skewed";
    static final int PARTITIONS = 6;
    static final long LEASE_MS = 6_000;

    @TempDir
    Path dir;

    private final BrokerProcess[] brokers = new BrokerProcess[3];
    private LocalFileMetadataStore store;

    @Test
    void leasesAndFailoverHoldWhenBrokerClocksAreAMinuteOff() throws Exception {
        if ("1".equals(System.getenv("CAPSTAN_REQUIRE_FAKETIME"))) {
            assertThat(FakeClock.LIBRARY).as("libfaketime (install the faketime Debian package: apt-get install faketime)").exists();
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(FakeClock.LIBRARY),
                "libfaketime is not installed (apt-get install faketime); the clock-skew test is skipped");
        Path metadata = dir.resolve("metadata");
        store = new LocalFileMetadataStore(metadata, 100);
        String[] skews = {"-60s", "+60s", null};
        for (int id = 0; id < brokers.length; id++) {
            brokers[id] = new BrokerProcess(dir.resolve("broker-" + id), Path.of("target", "clock-skew-logs", "broker-" + id),
                    Map.of("node.id", String.valueOf(id), "metadata.dir", metadata.toString(), "broker.lease.ms", String.valueOf(LEASE_MS),
                            "replica.fetch.max.wait.ms", "100", "disk.min.free.bytes", "0"));
            if (skews[id] != null) {
                // the wall clock only: the JVM's timers and waits run on the monotonic clock, which stays true
                brokers[id].withEnvironment(FakeClock.preloaded(skews[id]));
            }
            brokers[id].start();
        }
        Map<Long, AcknowledgedRecords.Ack> acked = new ConcurrentHashMap<>();
        AtomicReference<Exception> sendFailure = new AtomicReference<>();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong nextSeq = new AtomicLong();
        // the controller in a process of its own, 90 s behind the true time: no two clocks in the cluster agree
        try (ControllerProcess controller = new ControllerProcess(metadata, Path.of("target", "clock-skew-logs", "controller.log"))
                .withEnvironment(FakeClock.preloaded("-90s"))
                .start()) {
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap()))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3).configs(Map.of("min.insync.replicas", "2")))).all().get();
            }
            awaitAllInSync();
            Map<Integer, Integer> epochs = new HashMap<>();
            for (int p = 0; p < PARTITIONS; p++) {
                epochs.put(p, shard(p).leaderEpoch());
            }
            KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps(), new ByteArraySerializer(), new ByteArraySerializer());
            Thread load = new Thread(() -> {
                long start = System.nanoTime();
                while (running.get() && sendFailure.get() == null) {
                    long seq = nextSeq.getAndIncrement();
                    java.util.concurrent.locks.LockSupport.parkNanos(start + seq * 1_000_000L - System.nanoTime()); // 1,000/s: load shaping
                    producer.send(new ProducerRecord<>(TOPIC, (int) (seq % PARTITIONS), null, AcknowledgedRecords.value(seq)), (md, e) -> {
                        if (e != null) {
                            sendFailure.compareAndSet(null, e);
                        } else {
                            acked.put(seq, new AcknowledgedRecords.Ack(md.partition(), md.offset(), seq));
                        }
                    });
                }
            }, "skew-load");
            load.start();

            // three leases' worth of steady load: nobody is taken for dead, whatever the clocks
            await().during(Duration.ofMillis(3 * LEASE_MS)).atMost(Duration.ofMillis(3 * LEASE_MS + 5_000)).pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        for (int p = 0; p < PARTITIONS; p++) {
                            ShardState s = shard(p);
                            if (s.leaderEpoch() != epochs.get(p) || s.isr().size() != brokers.length) {
                                return false;
                            }
                        }
                        return true;
                    });
            System.out.printf("%d ms of load with clocks 60 s behind and ahead: no leader change, every ISR full%n", 3 * LEASE_MS);

            int ahead = 1;
            int partition = -1;
            for (int p = 0; p < PARTITIONS && partition < 0; p++) {
                if (shard(p).leader() == ahead) {
                    partition = p;
                }
            }
            assertThat(partition).as("broker %d leads a shard", ahead).isNotNegative();
            int led = partition;
            Signals.pauseOutsideMetadataWrites(brokers[ahead].pid(), metadata.resolve(".lock"));
            long pausedAt = System.nanoTime();
            try {
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                        .until(() -> shard(led).leader() >= 0 && shard(led).leader() != ahead);
            } finally {
                Signals.send("CONT", brokers[ahead].pid());
            }
            long movedMs = (System.nanoTime() - pausedAt) / 1_000_000;
            System.out.printf("broker %d (clock 60 s ahead) paused while leading shard %d: led elsewhere after %d ms%n", ahead, led, movedMs);
            assertThat(movedMs).as("failover of the paused broker ahead: about a lease (%d ms), not the minute its clock adds", LEASE_MS)
                    .isLessThan(LEASE_MS + 10_000);
            awaitAllInSync();

            running.set(false);
            load.join();
            producer.flush();
            producer.close(Duration.ofSeconds(60));
            assertThat(sendFailure.get()).as("producer error").isNull();
            long verified = AcknowledgedRecords.verify(bootstrap(), TOPIC, PARTITIONS, new HashMap<>(acked));
            assertThat(verified).isEqualTo(nextSeq.get());
            ReplicaLogs.Comparison replicas = ReplicaLogs.stopAndCompare(brokers, TOPIC, PARTITIONS);
            System.out.printf("clock skew test: %d records acknowledged, 0 lost, 0 duplicated; %d batches byte-identical on all 3"
                    + " replicas%n", verified, replicas.batches());
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

    private void awaitAllInSync() {
        StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, brokers.length);
    }

    private java.util.Properties producerProps() {
        java.util.Properties p = AcknowledgedRecords.durableProducer(bootstrap());
        p.put("request.timeout.ms", "5000");
        p.put("metadata.max.age.ms", "2000");
        return p;
    }
}
