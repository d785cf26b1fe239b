package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
 * A broker cut off from the controller alone: three brokers and the controller, each in a network namespace of its own
 * (NetworkLab), the metadata store a directory all of them still reach, clients on the bridge. The controller's held
 * connection to the leader's admin port and its probe of the inter-broker port now see silence, which must mean
 * nothing: the leader renews its lease through the store, so it keeps its lease and its shards for three leases while
 * its producers are acknowledged. Then the cut-off leader is SIGKILLed: the controller cannot see the process go (no
 * "connection refused" crosses a dropped link), so the lease alone must end it, and the shard must take acks=all writes
 * again within a lease and the producer's request timeout. Every acknowledged record is then read back and every
 * replica compared byte for byte.
 */
class ControllerPartitionTest {
    static final String TOPIC = "unheard";
    static final int PARTITIONS = 3;
    static final int BROKERS = 3;
    static final int CONTROLLER_NODE = BROKERS;
    static final long LEASE_MS = 2_000;
    static final long REQUEST_TIMEOUT_MS = 5_000;
    /** Detection by lease alone: the lease, one controller pass, the producer's metadata refresh and retry; slack for CI. */
    static final long UNAVAILABLE_MAX_MS = LEASE_MS + REQUEST_TIMEOUT_MS + 3_000;

    @TempDir
    Path dir;

    private final BrokerProcess[] brokers = new BrokerProcess[BROKERS];
    private LocalFileMetadataStore store;
    private ShapedLoad load;

    @Test
    void silenceBetweenTheControllerAndABrokerIsNotFailureAndTheLeaseStillEndsADeadOne() throws Exception {
        assumeTrue(NetworkLab.available(), "network namespaces need root and iproute2 (CI runs as root)");
        Path metadata = dir.resolve("metadata");
        store = new LocalFileMetadataStore(metadata, 100);
        Path logs = Path.of("target", "controller-partition-logs");
        try (NetworkLab lab = new NetworkLab(BROKERS + 1);
             ControllerProcess controller = new ControllerProcess(metadata, logs.resolve("controller.log")).withNetwork(lab.exec(CONTROLLER_NODE))) {
            for (int id = 0; id < BROKERS; id++) {
                brokers[id] = new BrokerProcess(dir.resolve("broker-" + id), logs.resolve("broker-" + id), Map.of("node.id", String.valueOf(id),
                        "metadata.dir", metadata.toString(), "broker.lease.ms", String.valueOf(LEASE_MS), "replica.lag.time.max.ms", "3000",
                        "replica.fetch.max.wait.ms", "100", "disk.min.free.bytes", "0"))
                        .withNetwork(lab.exec(id), lab.address(id));
                brokers[id].start();
            }
            controller.start();
            try (Admin admin = Admin.create(client())) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3).configs(Map.of("min.insync.replicas", "2")))).all().get();
            }
            StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, BROKERS);
            load = new ShapedLoad(new KafkaProducer<>(AcknowledgedRecords.failoverProducer(client(), REQUEST_TIMEOUT_MS),
                    new ByteArraySerializer(), new ByteArraySerializer()), TOPIC, PARTITIONS, 2_000);
            load.times().awaitAckOfSendAfter(0, System.nanoTime());

            ShardState before = shard(0);
            int leader = before.leader();
            lab.cut(leader, CONTROLLER_NODE);
            long cutAt = System.nanoTime();
            long watchMs = 3 * LEASE_MS;
            await().during(Duration.ofMillis(watchMs)).atMost(Duration.ofMillis(watchMs + 5_000)).pollInterval(Duration.ofMillis(100))
                    .untilAsserted(() -> {
                        assertThat(shard(0).leader()).as("leader of shard 0, cut off from the controller only").isEqualTo(leader);
                        assertThat(shard(0).leaderEpoch()).as("epoch of shard 0").isEqualTo(before.leaderEpoch());
                        assertThat(leaseExpiry(leader)).as("the cut-off broker's lease, renewed through the store").isGreaterThan(System.currentTimeMillis());
                    });
            long acksDuringCut = load.times().acknowledgedAfter(0, cutAt);
            System.out.printf("broker %d cut off from the controller only: kept its lease and shard 0 (epoch %d) for %d ms, %d records acknowledged there meanwhile%n",
                    leader, before.leaderEpoch(), watchMs, acksDuringCut);
            assertThat(acksDuringCut).as("shard 0 acknowledgements while its leader was cut off from the controller").isPositive();

            long killedAt = System.nanoTime();
            brokers[leader].kill();
            await().atMost(Duration.ofSeconds(60)).until(() -> shard(0).leader() >= 0 && shard(0).leader() != leader);
            long unavailable = (load.times().awaitAckOfSendAfter(0, killedAt) - killedAt) / 1_000_000;
            System.out.printf("then SIGKILLed, unseen by the controller: shard 0 took acks=all writes again %d ms later (lease %d ms)%n",
                    unavailable, LEASE_MS);
            assertThat(unavailable).as("ms until shard 0 took writes after its unseen leader died").isLessThanOrEqualTo(UNAVAILABLE_MAX_MS);
            assertThat(unavailable).as("no faster than the lease: the controller could not have seen the process go").isGreaterThanOrEqualTo(LEASE_MS / 2);
            lab.heal();
            brokers[leader].start();
            StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, BROKERS);

            long verified = load.finishAndVerify(client(), PARTITIONS);
            ReplicaLogs.Comparison replicas = ReplicaLogs.stopAndCompare(brokers, TOPIC, PARTITIONS);
            System.out.printf("controller partition test: %d records acknowledged, 0 lost, 0 duplicated; replicas byte-identical (%d batches)%n",
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
}
