package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.cluster.controller.FailoverController;
import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.ShardStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failure detection with a long lease (15 s; renewals every second, the default): three broker processes on a local metadata store
 * and the failover controller here. A broker paused with SIGSTOP keeps its lease and its leaderships past the point
 * where its renewals are overdue and the controller has probed it (its port still accepts connections); a broker
 * killed with SIGKILL (its port then refuses them) loses its lease, and every shard it led gets a new leader that
 * acknowledges an acks=all record, before that lease would have run out.
 */
class ProcessGoneFailoverTest {
    private static final String TOPIC = "detected";
    private static final int PARTITIONS = 6;
    private static final long LEASE_MS = 15_000;
    private static final long HEARTBEAT_MS = 1_000;

    @TempDir
    Path dir;

    private final BrokerProcess[] brokers = new BrokerProcess[3];
    private LocalFileMetadataStore store;

    @Test
    void aPausedBrokerKeepsItsLeaseAndAKilledOneLosesItBeforeItRunsOut() throws Exception {
        Path metadata = dir.resolve("metadata");
        store = new LocalFileMetadataStore(metadata, 100);
        for (int id = 0; id < brokers.length; id++) {
            brokers[id] = new BrokerProcess(dir.resolve("broker-" + id), Path.of("target", "process-gone-logs", "broker-" + id),
                    Map.of("node.id", String.valueOf(id), "metadata.dir", metadata.toString(), "broker.lease.ms", String.valueOf(LEASE_MS),
                            "broker.heartbeat.interval.ms", String.valueOf(HEARTBEAT_MS),
                            "replica.fetch.max.wait.ms", "100", "disk.min.free.bytes", "0"));
            brokers[id].start();
        }
        try (FailoverController controller = new FailoverController(store, System::currentTimeMillis)) {
            controller.start(100);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap()))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3).configs(Map.of("min.insync.replicas", "2")))).all().get();
            }
            awaitAllInSync();

            int paused = shard(0).leader();
            Signals.pauseOutsideMetadataWrites(brokers[paused].pid(), metadata.resolve(".lock"));
            try {
                // read once it is paused: a renewal written between a read and the pause would otherwise look like a change
                BrokerRegistration before = registration(paused);
                // overdue 1.25 s after its last renewal; probed then and every 0.25 s after; 1 s more for good measure
                long probedBy = before.leaseExpiresAtMs() - LEASE_MS + HEARTBEAT_MS + 2 * (HEARTBEAT_MS / 4) + 1_000;
                long waitMs = Math.max(0, probedBy - System.currentTimeMillis());
                await().during(Duration.ofMillis(waitMs)).atMost(Duration.ofMillis(waitMs + 5_000)).pollInterval(Duration.ofMillis(100))
                        .untilAsserted(() -> {
                            assertThat(registration(paused).leaseExpiresAtMs()).as("paused broker's lease").isEqualTo(before.leaseExpiresAtMs());
                            assertThat(shard(0).leader()).as("leader of shard 0").isEqualTo(paused);
                        });
            } finally {
                Signals.send("CONT", brokers[paused].pid());
            }
            System.out.printf("broker %d paused past its overdue renewal: lease and leadership kept%n", paused);
            awaitAllInSync();

            int killed = shard(0).leader();
            List<Integer> led = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                if (shard(p).leader() == killed) {
                    led.add(p);
                }
            }
            long leaseRunsOutAt = registration(killed).leaseExpiresAtMs();
            long killedAt = System.currentTimeMillis();
            brokers[killed].kill();
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps(), new ByteArraySerializer(), new ByteArraySerializer())) {
                List<Future<RecordMetadata>> sends = new ArrayList<>();
                for (int p : led) {
                    sends.add(producer.send(new ProducerRecord<>(TOPIC, p, null, ("after kill " + p).getBytes())));
                }
                for (Future<RecordMetadata> send : sends) {
                    send.get(); // the producer's delivery timeout (60 s) bounds it; the assertion below bounds it tighter
                }
            }
            long ackedAt = System.currentTimeMillis();
            for (int p : led) {
                ShardState s = shard(p);
                assertThat(s.leader()).as("shard %d", p).isNotIn(killed, -1);
                assertThat(s.isr()).as("shard %d", p).doesNotContain(killed);
            }
            assertThat(registration(killed).leaseExpiresAtMs()).as("its lease was ended by the controller, not run out").isZero();
            System.out.printf("SIGKILL of broker %d (leader of %d shards): every one acknowledged acks=all after %d ms; its lease would have run out after %d ms%n",
                    killed, led.size(), ackedAt - killedAt, leaseRunsOutAt - killedAt);
            assertThat(ackedAt).as("acknowledged before the killed broker's lease ran out").isLessThan(leaseRunsOutAt);
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

    private BrokerRegistration registration(int id) {
        return MetadataCodec.decode(store.get(BrokerRegistration.key(id)).orElseThrow().value(), BrokerRegistration.class);
    }

    private void awaitAllInSync() {
        StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, brokers.length);
    }

    private Properties producerProps() {
        Properties p = AcknowledgedRecords.durableProducer(bootstrap());
        p.put("delivery.timeout.ms", "60000");
        p.put("metadata.max.age.ms", "500");
        p.put("retry.backoff.ms", "50");
        return p;
    }
}
