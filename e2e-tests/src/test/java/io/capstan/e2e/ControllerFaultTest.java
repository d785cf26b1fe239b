package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.ShardState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults of the failover controller itself, run in a process of its own ({@link ControllerProcess}, as the operator's
 * pod runs it) over three broker processes and a local metadata store, under an idempotent acks=all producer:
 * <ol>
 *   <li><b>SIGKILL of the controller</b>, then SIGKILL of a leader while no controller runs: the dead leader's lease
 *       runs out but nobody moves its shard (asserted: failover needs a running controller, which is why the operator
 *       restarts it); a new controller process fails the shard over and it takes acks=all writes within
 *       {@link #TAKEOVER_MAX_MS} of that controller starting;</li>
 *   <li><b>two controllers at once</b>: the running one is SIGSTOPped (a long pause, an operator pod cut off) and a
 *       successor started; a leader is killed and the successor fails it over; then the paused one resumes beside it.
 *       Two controllers then run at once: the shard's epoch never goes back, and nothing acknowledged is lost. (Whether
 *       the resumed one decides anything from its stale view depends on whether a pass runs before its cache catches
 *       up; its writes would name versions the successor has replaced and lose their compare-and-set, the rule
 *       MetadataStoreContract checks on both stores.)</li>
 * </ol>
 * Afterwards every acknowledged record is read back once at its offset, and every replica is compared byte for byte.
 */
class ControllerFaultTest {
    static final String TOPIC = "controlled";
    static final int PARTITIONS = 3;
    static final int BROKERS = 3;
    static final long LEASE_MS = 2_000;
    /** A new controller opens its cache, sees the expired lease and writes; the producer's next retry lands. Slack for CI. */
    static final long TAKEOVER_MAX_MS = 8_000;

    @TempDir
    Path dir;

    private final BrokerProcess[] brokers = new BrokerProcess[BROKERS];
    private LocalFileMetadataStore store;
    private ShapedLoad load;

    @Test
    void failoverResumesUnderANewControllerAndAStaleOneChangesNothing() throws Exception {
        Path metadata = dir.resolve("metadata");
        store = new LocalFileMetadataStore(metadata, 100);
        Path logs = Path.of("target", "controller-fault-logs");
        try (ControllerProcess first = new ControllerProcess(metadata, logs.resolve("controller-1.log")).start();
             ControllerProcess second = new ControllerProcess(metadata, logs.resolve("controller-2.log"));
             ControllerProcess third = new ControllerProcess(metadata, logs.resolve("controller-3.log"))) {
            for (int id = 0; id < BROKERS; id++) {
                brokers[id] = new BrokerProcess(dir.resolve("broker-" + id), logs.resolve("broker-" + id), Map.of("node.id", String.valueOf(id),
                        "metadata.dir", metadata.toString(), "broker.lease.ms", String.valueOf(LEASE_MS), "replica.lag.time.max.ms", "3000",
                        "replica.fetch.max.wait.ms", "100", "disk.min.free.bytes", "0"));
                brokers[id].start();
            }
            try (Admin admin = Admin.create(client())) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3).configs(Map.of("min.insync.replicas", "2")))).all().get();
            }
            StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, BROKERS);
            KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps(), new ByteArraySerializer(), new ByteArraySerializer());
            load = new ShapedLoad(producer, TOPIC, PARTITIONS, 2_000);

            // 1: no controller, then a new one
            first.kill();
            int leader = shard(0).leader();
            brokers[leader].kill();
            long killedAt = System.nanoTime();
            await().atMost(Duration.ofSeconds(30)).until(() -> leaseExpiry(leader) < System.currentTimeMillis() - LEASE_MS);
            assertThat(shard(0).leader()).as("leader of shard 0 a whole lease after its broker died, with no controller running").isEqualTo(leader);
            assertThat(load.times().acknowledgedAfter(0, killedAt + 1_000_000_000L)).as("shard 0 acknowledgements with its leader dead").isZero();
            long startedAt = System.nanoTime();
            second.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> shard(0).leader() >= 0 && shard(0).leader() != leader);
            long takeover = (load.times().awaitAckOfSendAfter(0, startedAt) - startedAt) / 1_000_000;
            System.out.printf("controller SIGKILLed, then leader %d of shard 0: no failover for a whole lease after its expiry; a new"
                    + " controller process started and shard 0 took acks=all writes %d ms later%n", leader, takeover);
            assertThat(takeover).as("ms from the new controller's start until shard 0 took writes").isLessThanOrEqualTo(TAKEOVER_MAX_MS);
            brokers[leader].start();
            StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, BROKERS);

            // 2: the running controller paused, a successor started, a leader killed, the paused one resumed
            Signals.pauseOutsideMetadataWrites(second.pid(), metadata.resolve(".lock"));
            third.start();
            int victim = shard(1).leader();
            brokers[victim].kill();
            long victimKilledAt = System.nanoTime();
            await().atMost(Duration.ofSeconds(60)).until(() -> shard(1).leader() >= 0 && shard(1).leader() != victim);
            long failover = (load.times().awaitAckOfSendAfter(1, victimKilledAt) - victimKilledAt) / 1_000_000;
            ShardState afterFailover = shard(1);
            Signals.send("CONT", second.pid());
            brokers[victim].start();
            StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, BROKERS);
            System.out.printf("controller paused, successor started, leader %d of shard 1 SIGKILLed: shard 1 took writes again %d ms later"
                    + " (new leader %d, epoch %d); the paused controller resumed%n", victim, failover, afterFailover.leader(), afterFailover.leaderEpoch());
            assertThat(shard(1).leaderEpoch()).as("shard 1's epoch never goes back").isGreaterThanOrEqualTo(afterFailover.leaderEpoch());

            long verified = load.finishAndVerify(client(), PARTITIONS);
            ReplicaLogs.Comparison replicas = ReplicaLogs.stopAndCompare(brokers, TOPIC, PARTITIONS);
            System.out.printf("controller fault test: %d records acknowledged, 0 lost, 0 duplicated; replicas byte-identical (%d batches)%n",
                    verified, replicas.batches());
        } finally {
            if (load != null) {
                load.stop();
            }
            BrokerProcess.stopAll(brokers);
            store.close();
        }
    }

    private long leaseExpiry(int broker) {
        return store.get(BrokerRegistration.key(broker))
                .map(v -> MetadataCodec.decode(v.value(), BrokerRegistration.class).leaseExpiresAtMs()).orElse(0L);
    }

    private ShardState shard(int partition) {
        return StoreShards.shard(store, TOPIC, partition);
    }

    private Properties client() {
        return ClientSecurity.NONE.client(BrokerProcess.bootstrap(brokers));
    }

    private Properties producerProps() {
        return AcknowledgedRecords.failoverProducer(client(), 5000);
    }
}
