package io.capstan.e2e.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Helm;
import io.capstan.e2e.AcknowledgedRecords;
import io.capstan.e2e.k8s.kubelet.ClusterDns;
import io.capstan.e2e.k8s.kubelet.Images;
import io.capstan.e2e.k8s.kubelet.PodRunner;
import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.reconcile.Conditions;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The product as a user meets it, on a real control plane (etcd, kube-apiserver, controller manager, scheduler) with
 * broker pods running as real processes (the {@link PodRunner} stands in for the kubelet): the chart installed by a
 * real Helm, the operator running as a pod under its chart's ServiceAccount, BrokerClusters applied from the examples,
 * and Kafka clients producing and consuming through the brokers' pod DNS names. The scenarios run in order on one
 * control plane, each starting from the state the previous one left.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BrokerPodsTest {
    static final String NODE = "capstan-node-1";
    static final String NS = "shop";
    static ControlPlane controlPlane;
    static KubernetesClient client;
    static PodRunner runner;

    @BeforeAll
    static void start() throws Exception {
        ControlPlane.assumeBuilt(true);
        String hosts = System.getProperty("jdk.net.hosts.file");
        org.junit.jupiter.api.Assumptions.assumeTrue(hosts != null,
                "runs in the broker-pods surefire execution, which gives the JVM the pods' hosts file (-Djdk.net.hosts.file)");
        controlPlane = ControlPlane.start(Path.of("target", "k8s-pods-" + System.nanoTime()).toAbsolutePath());
        controlPlane.startScheduling();
        client = controlPlane.adminClient();
        PodRunner.registerNode(client, NODE, Map.of("topology.kubernetes.io/zone", "zone-a"));
        PodRunner.provisionVolumes(client, controlPlane.work().resolve("volumes"), 8, "10Gi");
        runner = new PodRunner(client, NODE, controlPlane.work(), Images.fromCheckout(Path.of("..").toAbsolutePath().normalize(),
                List.of("0.1.0", "0.2.0")), new ClusterDns(Path.of(hosts)), controlPlane.apiServerUrl(), controlPlane.caCertificate());
        runner.start();
    }

    @AfterAll
    static void stop() {
        if (runner != null) {
            runner.close();
        }
        if (client != null) {
            client.close();
        }
        if (controlPlane != null) {
            controlPlane.close();
        }
    }

    static BrokerCluster cluster(String name) {
        return client.resources(BrokerCluster.class).inNamespace(NS).withName(name).get();
    }

    static boolean ready(BrokerCluster c) {
        return c != null && c.getStatus() != null && c.getStatus().conditions != null
                && Conditions.get(c.getStatus().conditions, Conditions.READY) != null
                && "True".equals(Conditions.get(c.getStatus().conditions, Conditions.READY).getStatus());
    }

    static String bootstrap(String cluster, int brokers) {
        List<String> hosts = new ArrayList<>();
        for (int i = 0; i < brokers; i++) {
            hosts.add(cluster + "-" + i + "." + cluster + "-brokers." + NS + ".svc:9092");
        }
        return String.join(",", hosts);
    }

    static void createTopic(String bootstrap, String topic, int partitions, short replicas) throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                Map.of("bootstrap.servers", bootstrap, "default.api.timeout.ms", "120000"))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topic, partitions, replicas))).all()
                    .get(2, java.util.concurrent.TimeUnit.MINUTES);
        }
    }

    @Test
    @Order(1)
    void theChartInstallsTheOperatorWhichRunsAsItsServiceAccount() throws Exception {
        new Helm(Path.of("..", "helm", "capstan-operator")).install().withName("capstan").withNamespace("capstan-system")
                .createNamespace().withKubeConfig(controlPlane.adminKubeconfig()).call();
        await("the operator pod is ready").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            List<Pod> pods = client.pods().inNamespace("capstan-system").list().getItems();
            assertThat(pods).singleElement().satisfies(p -> {
                assertThat(p.getSpec().getServiceAccountName()).isEqualTo("capstan-operator");
                assertThat(p.getStatus().getConditions()).anySatisfy(c -> {
                    assertThat(c.getType()).isEqualTo("Ready");
                    assertThat(c.getStatus()).isEqualTo("True");
                });
            });
        });
        await("the operator takes its leader-election lease as its ServiceAccount").atMost(Duration.ofMinutes(2))
                .until(() -> client.leases().inNamespace("capstan-system").withName("capstan-operator").get() != null);
        assertThat(client.apiextensions().v1().customResourceDefinitions().withName("brokerclusters.capstan.io").get())
                .as("Helm installed the CRD from the chart").isNotNull();
    }

    @Test
    @Order(2)
    void theMinimalExampleBecomesAReadyClusterThatProducesAndConsumes() throws Exception {
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build()).create();
        BrokerCluster minimal = Serialization.unmarshal(Files.readString(Path.of("..", "manifests", "examples", "minimal.yaml")), BrokerCluster.class);
        minimal.getMetadata().setNamespace(NS);
        client.resource(minimal).create();

        await("BrokerCluster minimal is Ready").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
                .until(() -> ready(cluster("minimal")));
        BrokerCluster c = cluster("minimal");
        assertThat(c.getStatus().readyReplicas).isEqualTo(3);
        assertThat(c.getStatus().currentVersion).isEqualTo("0.1.0");
        assertThat(client.apps().statefulSets().inNamespace(NS).withName("minimal").get().getStatus().getReadyReplicas()).isEqualTo(3);
        assertThat(client.services().inNamespace(NS).list().getItems()).extracting(s -> s.getMetadata().getName())
                .contains("minimal", "minimal-brokers");
        assertThat(client.policy().v1().podDisruptionBudget().inNamespace(NS).withName("minimal").get()).isNotNull();

        String bootstrap = bootstrap("minimal", 3);
        createTopic(bootstrap, "orders", 3, (short) 3);
        Map<Long, AcknowledgedRecords.Ack> acked = new ConcurrentHashMap<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(AcknowledgedRecords.durableProducer(bootstrap),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (long seq = 0; seq < 2_000; seq++) {
                long s = seq;
                producer.send(new ProducerRecord<>("orders", (int) (seq % 3), null, AcknowledgedRecords.value(seq)), (md, e) -> {
                    if (e == null) {
                        acked.put(s, new AcknowledgedRecords.Ack(md.partition(), md.offset(), s));
                    }
                });
            }
            producer.flush();
        }
        assertThat(acked).hasSize(2_000);
        assertThat(AcknowledgedRecords.verify(bootstrap, "orders", 3, acked)).isEqualTo(2_000);
    }
}
