package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.capstan.cluster.controller.FailoverController;
import io.capstan.cluster.metadata.KubernetesMetadataStore;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.e2e.k8s.ControlPlane;
import io.capstan.e2e.k8s.TcpProxy;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetAddress;
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
 * A leader cut off from the metadata store while its clients and the other brokers still reach it. Three broker
 * processes, each in its own network namespace ({@link NetworkLab}), keep their metadata on the real kube-apiserver,
 * which they reach through a relay on an address of the test's network; the controller and the producer reach
 * everything. Cutting a leader's route to that address stops its lease renewals only: the controller lets the lease
 * run out and elects another in-sync replica; the old leader cannot hear of it, but its own clock tells it that its
 * lease ran out, and it stops taking produce (decision 0016) and closes each connection after answering, so that
 * clients ask another broker who leads now (otherwise a producer may ask the idle cut-off broker again and again).
 * Asserted: a record sent after the new leader's election is acknowledged within {@link #UNAVAILABLE_MAX_MS}; after the heal the old leader
 * registers again and rejoins every in-sync set; every acknowledged record is then read back once at its offset
 * (so nothing the cut-off leader appeared to accept was acknowledged and lost) and every replica is byte-identical.
 */
@org.junit.jupiter.api.Tag(ControlPlane.TAG)
class StorePartitionTest {
    static final String TOPIC = "store-cut";
    static final String NAMESPACE = "store-cut";
    static final int PARTITIONS = 3;
    static final int BROKERS = 3;
    static final long LEASE_MS = 3_000;
    /** The producer's request timeout here: a leader that kept taking requests without its lease would cost that much. */
    static final long REQUEST_TIMEOUT_MS = 10_000;
    /**
     * From the new leader's election: the old leader, its lease run out by its own clock, has stopped taking produce
     * (NOT_LEADER_OR_FOLLOWER, decision 0016), so the producer finds the new one (metadata.max.age.ms 2 s at worst)
     * and retries; slack for CI. Well under the request timeout, which is what a zombie leader would cost.
     */
    static final long UNAVAILABLE_MAX_MS = 2_000 + 3_000;

    @TempDir
    Path dir;

    private final BrokerProcess[] brokers = new BrokerProcess[BROKERS];
    private MetadataStore store;

    @Test
    void aLeaderCutOffFromTheStoreIsReplacedAndLosesNothing() throws Exception {
        assumeTrue(NetworkLab.available(), "network namespaces need root and iproute2 (CI runs as root)");
        ControlPlane.assumeBuilt(false);
        ShapedLoad load = null;
        try (ControlPlane controlPlane = ControlPlane.start(dir.resolve("k8s"));
             KubernetesClient client = controlPlane.adminClient();
             NetworkLab lab = new NetworkLab(BROKERS)) {
            String storeAddress = lab.addServiceAddress(ControlPlane.LAB_ADDRESS);
            try (TcpProxy relay = new TcpProxy(InetAddress.getByName(storeAddress), controlPlane.apiPort())) {
                Path kubeconfig = controlPlane.adminKubeconfigAt("https://" + storeAddress + ":" + relay.port(), "lab.kubeconfig");
                client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build()).create();
                store = new KubernetesMetadataStore(client, NAMESPACE, "store");
                for (int id = 0; id < BROKERS; id++) {
                    brokers[id] = new BrokerProcess(dir.resolve("broker-" + id), Path.of("target", "store-cut-logs", "broker-" + id),
                            Map.of("node.id", String.valueOf(id), "metadata.store", "kubernetes", "metadata.namespace", NAMESPACE,
                                    "metadata.name", "store", "broker.lease.ms", String.valueOf(LEASE_MS), "replica.lag.time.max.ms", "3000",
                                    "replica.fetch.max.wait.ms", "100", "disk.min.free.bytes", "0"))
                            .withEnvironment(Map.of("KUBECONFIG", kubeconfig.toString()))
                            .withNetwork(lab.exec(id), lab.address(id));
                    brokers[id].start();
                }
                try (FailoverController controller = new FailoverController(store, System::currentTimeMillis)) {
                    controller.start(200);
                    try (Admin admin = Admin.create(client())) {
                        admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3).configs(Map.of("min.insync.replicas", "2")))).all().get();
                    }
                    StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, BROKERS);
                    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps(), new ByteArraySerializer(), new ByteArraySerializer());
                    load = new ShapedLoad(producer, TOPIC, PARTITIONS, 2_000);
                    int leader = shard(0).leader();
                    lab.drop(leader, storeAddress);
                    long cutAt = System.nanoTime();
                    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                            .until(() -> shard(0).leader() >= 0 && shard(0).leader() != leader);
                    long electedAt = System.nanoTime();
                    ShardState replaced = shard(0);
                    // until then the old leader still led (the store said so) and its followers still copied from it
                    long unavailable = (load.times().awaitAckOfSendAfter(0, electedAt) - electedAt) / 1_000_000;
                    System.out.printf("leader %d of shard 0 cut off from the metadata store (clients and brokers still reach it): its lease"
                            + " ran out and broker %d leads in epoch %d %d ms after the cut; a record sent after that was acknowledged %d ms"
                            + " later%n", leader, replaced.leader(), replaced.leaderEpoch(), (electedAt - cutAt) / 1_000_000, unavailable);
                    assertThat(replaced.isr()).as("in-sync replicas once the cut-off leader's lease ran out").doesNotContain(leader);
                    try (MetadataProbe probe = new MetadataProbe(brokers[leader].host(), brokers[leader].port())) {
                        MetadataProbe.Leadership stale = probe.leadership(TOPIC, 0);
                        // its answer may name itself (it cannot hear the store): a client must not keep asking it
                        assertThat(probe.closedByBroker()).as("broker %d, its lease run out, closes the connection after answering"
                                + " (it said shard 0 is led by %d in epoch %d)", leader, stale.leader(), stale.epoch()).isTrue();
                    }
                    lab.heal();
                    StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, BROKERS);
                    System.out.printf("after the heal broker %d registered again and rejoined every in-sync set%n", leader);
                    long verified = load.finishAndVerify(client(), PARTITIONS);
                    ReplicaLogs.Comparison replicas = ReplicaLogs.stopAndCompare(brokers, TOPIC, PARTITIONS);
                    System.out.printf("store partition test: %d records acknowledged, 0 lost, 0 duplicated; replicas byte-identical (%d batches)%n",
                            verified, replicas.batches());
                    assertThat(unavailable).as("ms from the new leader's election until a record sent after it was acknowledged").isLessThanOrEqualTo(UNAVAILABLE_MAX_MS);
                } finally {
                    if (load != null) {
                        load.stop();
                    }
                    BrokerProcess.stopAll(brokers); // while the API server still answers
                }
            }
        }
    }

    private ShardState shard(int partition) {
        return StoreShards.shard(store, TOPIC, partition);
    }

    private Properties client() {
        return ClientSecurity.NONE.client(BrokerProcess.bootstrap(brokers));
    }

    private Properties producerProps() {
        return AcknowledgedRecords.failoverProducer(client(), REQUEST_TIMEOUT_MS);
    }
}
