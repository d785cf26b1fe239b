package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.cluster.controller.FailoverController;
import io.capstan.cluster.metadata.KubernetesMetadataStore;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.e2e.k8s.ControlPlane;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
 * Broker crashes with the metadata store on a real kube-apiserver and etcd (the e2e control plane): three broker
 * processes on `metadata.store=kubernetes`, the failover controller here as the operator runs it, an idempotent acks=all
 * producer throughout. Each cycle SIGKILLs the leader of a shard (its lease in a ConfigMap is ended by the controller
 * once its port refuses connections), bounds the shard's produce unavailability, and restarts the broker, which must
 * register again over the lease it left behind and rejoin every in-sync set. Afterwards every acknowledged record is
 * read back once at its offset and every replica is compared byte for byte.
 */
@org.junit.jupiter.api.Tag(ControlPlane.TAG)
class KubernetesStoreCrashTest {
    static final String TOPIC = "on-the-api-server";
    static final String NAMESPACE = "crash";
    static final int PARTITIONS = 3;
    static final int BROKERS = 3;
    /** Detection within a round trip (decision 0014), a controller pass and the producer's next retry; slack for CI. */
    static final long UNAVAILABLE_MAX_MS = 8_000;

    @TempDir
    Path dir;

    private final BrokerProcess[] brokers = new BrokerProcess[BROKERS];
    private MetadataStore store;

    @Test
    void leadersKilledOnTheKubernetesStoreLoseNothing() throws Exception {
        ControlPlane.assumeBuilt(false);
        int cycles = Integer.getInteger("capstan.k8s-crash.cycles", 2);
        ShapedLoad load = null;
        try (ControlPlane controlPlane = ControlPlane.start(dir.resolve("k8s"));
             KubernetesClient client = controlPlane.adminClient()) {
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build()).create();
            store = new KubernetesMetadataStore(client, NAMESPACE, "store");
            for (int id = 0; id < BROKERS; id++) {
                brokers[id] = new BrokerProcess(dir.resolve("broker-" + id), Path.of("target", "k8s-crash-logs", "broker-" + id),
                        Map.of("node.id", String.valueOf(id), "metadata.store", "kubernetes", "metadata.namespace", NAMESPACE,
                                "metadata.name", "store", "broker.lease.ms", "3000", "replica.lag.time.max.ms", "3000",
                                "replica.fetch.max.wait.ms", "100", "disk.min.free.bytes", "0"))
                        .withEnvironment(Map.of("KUBECONFIG", controlPlane.adminKubeconfig().toString()));
                brokers[id].start();
            }
            try (FailoverController controller = new FailoverController(store, System::currentTimeMillis)) { // brokers stop before the API server
                controller.start(200);
                try (Admin admin = Admin.create(client())) {
                    admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3).configs(Map.of("min.insync.replicas", "2")))).all().get();
                }
                StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, BROKERS);
                KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps(), new ByteArraySerializer(), new ByteArraySerializer());
                load = new ShapedLoad(producer, TOPIC, PARTITIONS, 2_000);
                List<Long> unavailable = new ArrayList<>();
                for (int cycle = 1; cycle <= cycles; cycle++) {
                    int partition = cycle % PARTITIONS;
                    int leader = shard(partition).leader();
                    brokers[leader].kill();
                    long killedAt = System.nanoTime();
                    await().atMost(Duration.ofSeconds(60)).until(() -> shard(partition).leader() >= 0 && shard(partition).leader() != leader);
                    unavailable.add((load.times().awaitAckOfSendAfter(partition, killedAt) - killedAt) / 1_000_000);
                    brokers[leader].start();
                    StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, BROKERS);
                    System.out.printf("cycle %d: SIGKILL of broker %d (leader of shard %d) on the Kubernetes store: writes again after %d ms;"
                            + " restarted and back in every in-sync set%n", cycle, leader, partition, unavailable.get(unavailable.size() - 1));
                }
                long verified = load.finishAndVerify(client(), PARTITIONS);
                ReplicaLogs.Comparison replicas = ReplicaLogs.stopAndCompare(brokers, TOPIC, PARTITIONS);
                System.out.printf("Kubernetes store crash test: %d leader crashes, %d records acknowledged, 0 lost, 0 duplicated; replicas"
                        + " byte-identical (%d batches); unavailability per crash %s ms%n", cycles, verified, replicas.batches(), unavailable);
                assertThat(unavailable).allSatisfy(ms -> assertThat(ms).as("produce unavailability after a leader crash (ms)")
                        .isLessThanOrEqualTo(UNAVAILABLE_MAX_MS));
            } finally {
                BrokerProcess.stopAll(brokers); // while the API server still answers
            }
        } finally {
            if (load != null) {
                load.stop();
            }
            BrokerProcess.stopAll(brokers);
        }
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
