package io.capstan.e2e.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Helm;
import io.capstan.e2e.AcknowledgedRecords;
import io.capstan.e2e.ProduceLoad;
import io.capstan.e2e.k8s.kubelet.ClusterDns;
import io.capstan.e2e.k8s.kubelet.Images;
import io.capstan.e2e.k8s.kubelet.PodRunner;
import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.api.BrokerClusterStatus;
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
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
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
@org.junit.jupiter.api.Tag(ControlPlane.TAG)
@org.junit.jupiter.api.Tag("broker-pods") // its own JVM (the pom says why)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BrokerPodsTest {
    static final String NODE = "capstan-node-1";
    static final String NS = "shop";
    static ControlPlane controlPlane;
    static KubernetesClient client;
    static PodRunner runner;
    /** Nodes in other zones, added by the zones scenario. */
    static final List<PodRunner> otherNodes = new ArrayList<>();
    static ClusterDns dns;
    /** What the upgrade scenario's producer was told, checked again after later scenarios moved the shards. */
    static Map<Long, AcknowledgedRecords.Ack> upgradeAcked = Map.of();

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
        PodRunner.provisionVolumes(client, controlPlane.work().resolve("volumes"), 10, "10Gi");
        Images images = Images.fromCheckout(Path.of("..").toAbsolutePath().normalize(), List.of("0.1.0", "0.2.0", "0.3.0"))
                .withBrokenBroker("0.4.0", controlPlane.work().resolve("images").resolve("broken"));
        dns = new ClusterDns(Path.of(hosts));
        runner = new PodRunner(client, NODE, controlPlane.work(), images, dns, controlPlane.apiServerUrl(), controlPlane.caCertificate());
        runner.start();
    }

    @AfterAll
    static void stop() {
        otherNodes.forEach(PodRunner::close);
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
        createTopic(bootstrap, topic, partitions, replicas, Map.of());
    }

    static void createTopic(String bootstrap, String topic, int partitions, short replicas, Map<String, String> configs) throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                Map.of("bootstrap.servers", bootstrap, "default.api.timeout.ms", "120000"))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topic, partitions, replicas).configs(configs))).all()
                    .get(2, java.util.concurrent.TimeUnit.MINUTES);
        }
    }

    static List<Pod> brokerPods(String cluster) {
        return client.pods().inNamespace(NS).withLabel("app.kubernetes.io/instance", cluster).list().getItems();
    }

    static Map<String, String> imagesByPod(String cluster) {
        Map<String, String> out = new java.util.TreeMap<>();
        brokerPods(cluster).forEach(p -> out.put(p.getMetadata().getName(), p.getSpec().getContainers().get(0).getImage()));
        return out;
    }

    static Pod operatorPod() {
        return client.pods().inNamespace("capstan-system").list().getItems().get(0);
    }

    static boolean podReady(Pod p) {
        return p.getMetadata().getDeletionTimestamp() == null && p.getStatus() != null && p.getStatus().getConditions() != null
                && p.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    /**
     * A user's edit of the spec. The operator writes the status meanwhile (after every pod and StatefulSet change), so an
     * edit can meet a newer version and get 409 Conflict; like `kubectl edit`, it is made again on the newer object.
     */
    static BrokerCluster edit(String name, java.util.function.Consumer<BrokerCluster> change) {
        for (int attempt = 1; ; attempt++) {
            try {
                return client.resources(BrokerCluster.class).inNamespace(NS).withName(name).edit(c -> {
                    change.accept(c);
                    return c;
                });
            } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                if (e.getCode() != 409 || attempt == 10) {
                    throw e;
                }
            }
        }
    }

    static String rolloutPhase(String name) {
        BrokerCluster c = cluster(name);
        return c.getStatus() == null || c.getStatus().rollout == null || c.getStatus().rollout.phase == null ? null : c.getStatus().rollout.phase.name();
    }

    /** Replica placement as a Kafka client sees it: brokers hosting any replica of {@code topic}. */
    static java.util.Set<Integer> brokersHosting(String bootstrap, String topic) throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            java.util.Set<Integer> out = new java.util.TreeSet<>();
            admin.describeTopics(List.of(topic)).allTopicNames().get(1, java.util.concurrent.TimeUnit.MINUTES).get(topic).partitions()
                    .forEach(p -> p.replicas().forEach(n -> out.add(n.id())));
            return out;
        }
    }

    /** How many of a cluster's brokers were unavailable at once (missing, terminating or not ready), sampled every 100 ms. */
    static final class Unavailability implements AutoCloseable {
        final java.util.concurrent.atomic.AtomicInteger max = new java.util.concurrent.atomic.AtomicInteger();
        private final java.util.concurrent.ScheduledExecutorService sampler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();

        Unavailability(String cluster, int brokers) {
            sampler.scheduleWithFixedDelay(() -> {
                try {
                    long up = brokerPods(cluster).stream().filter(BrokerPodsTest::podReady).count();
                    max.accumulateAndGet((int) (brokers - up), Math::max);
                } catch (RuntimeException e) {
                    // a failed list is no sample
                }
            }, 0, 100, java.util.concurrent.TimeUnit.MILLISECONDS);
        }

        @Override
        public void close() {
            sampler.shutdownNow();
        }
    }

    @Test
    @Order(1)
    void theChartInstallsTheOperatorWhichRunsAsItsServiceAccount() throws Exception {
        new Helm(Path.of("..", "helm", "capstan-operator")).install().withName("capstan").withNamespace("capstan-system")
                .createNamespace().withKubeConfig(controlPlane.adminKubeconfig())
                .set("allowedImageRegistries[0]", "registry.example.com") // images from spec.version stay allowed
                .set("certificates.trustPropagation", "20s") // the pod runner syncs Secret volumes every 3 s
                .set("topics.resyncInterval", "10s") // drift found within 10 s instead of the default minute
                .set("console.enabled", "true") // the operator's web console, checked during the canary (step 7)
                .call();
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
    void theMinimalExampleBecomesAReadyClusterUnderPodSecurityRestrictedThatProducesAndConsumes() throws Exception {
        // the namespace admits only pods that meet Pod Security "restricted", enforced by the API server itself
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS)
                .addToLabels("pod-security.kubernetes.io/enforce", "restricted")
                .addToLabels("pod-security.kubernetes.io/enforce-version", "latest").endMetadata().build()).create();
        io.fabric8.kubernetes.client.KubernetesClientException refused = org.junit.jupiter.api.Assertions.assertThrows(
                io.fabric8.kubernetes.client.KubernetesClientException.class, () -> client.pods().inNamespace(NS).resource(
                        new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("unhardened").endMetadata().withNewSpec()
                                .addNewContainer().withName("c").withImage("capstan/broker:0.1.0").endContainer().endSpec().build()).create());
        assertThat(refused.getMessage()).as("the check can fail: a pod without a security context").contains("violates PodSecurity");
        BrokerCluster minimal = Serialization.unmarshal(Files.readString(Path.of("..", "manifests", "examples", "minimal.yaml")), BrokerCluster.class);
        minimal.getMetadata().setNamespace(NS);
        client.resource(minimal).create();

        await("BrokerCluster minimal is Ready").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
                .until(() -> ready(cluster("minimal")));
        BrokerCluster c = cluster("minimal");
        assertThat(c.getStatus().readyReplicas).isEqualTo(3);
        assertThat(c.getStatus().currentVersion).isEqualTo("0.1.0");
        assertThat(client.apps().statefulSets().inNamespace(NS).withName("minimal").get().getStatus().getReadyReplicas()).isEqualTo(3);
        // a new cluster starts at the newest cluster version, written by its first broker: nothing to raise or restart for
        await("status reports the cluster version").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .until(() -> cluster("minimal").getStatus().clusterVersion != null && cluster("minimal").getStatus().clusterVersion.finalized != null);
        assertThat(cluster("minimal").getStatus().clusterVersion.finalized).isEqualTo(io.capstan.cluster.version.ClusterVersion.LATEST);
        assertThat(cluster("minimal").getStatus().clusterVersion.supportedByAllBrokers).isEqualTo(io.capstan.cluster.version.ClusterVersion.LATEST);
        assertThat(cluster("minimal").getStatus().clusterVersion.restartedFor).isNull();
        assertThat(client.apps().statefulSets().inNamespace(NS).withName("minimal").get().getSpec().getTemplate().getMetadata().getAnnotations())
                .doesNotContainKey("capstan.io/cluster-version");
        assertThat(client.services().inNamespace(NS).list().getItems()).extracting(s -> s.getMetadata().getName())
                .contains("minimal", "minimal-brokers");
        assertThat(client.policy().v1().podDisruptionBudget().inNamespace(NS).withName("minimal").get()).isNotNull();
        assertThat(client.network().v1().networkPolicies().inNamespace(NS).withName("minimal").get().getSpec().getIngress())
                .as("accepted by the API server's validation (this node's pod runner does not enforce it)").hasSize(2);
        assertThat(client.services().inNamespace(NS).withName("minimal").get().getSpec().getPorts())
                .extracting(io.fabric8.kubernetes.api.model.ServicePort::getPort).containsExactly(9092);
        // the brokers keep their metadata in MetadataEntry resources and may not touch the namespace's ConfigMaps
        var asBroker = new io.fabric8.kubernetes.client.ConfigBuilder(controlPlane.adminConfig())
                .withImpersonateUsername("system:serviceaccount:" + NS + ":minimal-broker").build();
        try (KubernetesClient broker = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(asBroker).build()) {
            assertThat(broker.genericKubernetesResources("capstan.io/v1alpha1", "MetadataEntry").inNamespace(NS)
                    .withLabel("capstan.io/metadata-store", "minimal").list().getItems()).as("the cluster's metadata").isNotEmpty();
            assertThatThrownBy(() -> broker.configMaps().inNamespace(NS).list())
                    .isInstanceOf(io.fabric8.kubernetes.client.KubernetesClientException.class).hasMessageContaining("forbidden");
            assertThatThrownBy(() -> broker.secrets().inNamespace(NS).list())
                    .isInstanceOf(io.fabric8.kubernetes.client.KubernetesClientException.class).hasMessageContaining("forbidden");
        }

        // as an application would: the client Service as bootstrap, the brokers' own names from then on
        String bootstrap = "minimal." + NS + ".svc:9092";
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

    /** What Prometheus would scrape: each broker pod's /metrics on the port its annotation names, and the operator's. */
    @Test
    @Order(3)
    void brokersAndTheOperatorServePrometheusMetricsOnTheirPods() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        for (Pod pod : brokerPods("minimal")) {
            String port = pod.getMetadata().getAnnotations().get("prometheus.io/port");
            String body = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + pod.getStatus().getPodIP()
                    + ":" + port + "/metrics")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            assertThat(body).as(pod.getMetadata().getName()).contains("capstan_requests_total");
            // the one action of the admin port needs the token from the cluster's Secret, which only the brokers mount
            for (String authorization : new String[] {null, "Bearer not-the-token"}) {
                var post = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + pod.getStatus().getPodIP() + ":" + port
                        + "/controlled-shutdown")).POST(java.net.http.HttpRequest.BodyPublishers.noBody());
                if (authorization != null) {
                    post.header("Authorization", authorization);
                }
                var reply = http.send(post.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(reply.statusCode()).as(pod.getMetadata().getName() + " POST /controlled-shutdown with " + authorization).isEqualTo(401);
            }
        }
        assertThat(client.secrets().inNamespace(NS).withName("minimal-admin-token").get().getData()).containsKey("token");
        Pod operator = operatorPod();
        int port = operator.getSpec().getContainers().get(0).getPorts().stream().filter(p -> "http".equals(p.getName()))
                .findFirst().orElseThrow().getContainerPort();
        String body = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + operator.getStatus().getPodIP()
                + ":" + port + "/metrics")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        assertThat(body).contains("capstan_operator_reconciles_total{outcome=\"ok\"}");
        assertThat(metric(body, "capstan_controller_passes_total{cluster=\"" + NS + "/minimal\"}"))
                .as("passes of the cluster's failover controller, run by the operator").isPositive();
        assertThat(body).contains("capstan_controller_failovers_total{cluster=\"" + NS + "/minimal\"}");
        // a pass reads the StatefulSet and pods from informer caches: its own requests are the writes alone
        double passes = metric(body, "capstan_operator_reconcile_api_calls_count");
        double requests = metric(body, "capstan_operator_reconcile_api_calls_sum");
        double withinSixteen = metric(body, "capstan_operator_reconcile_api_calls_bucket{le=\"16.0\"}");
        System.out.printf("operator: %.0f passes, %.1f API requests per pass on average%n", passes, requests / passes);
        assertThat(passes).isPositive();
        assertThat(withinSixteen).as("passes that made at most 16 API requests").isEqualTo(passes);
    }

    private static double metric(String exposition, String series) {
        return exposition.lines().filter(l -> l.startsWith(series + " ")).mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1)))
                .findFirst().orElseThrow(() -> new AssertionError("no " + series + " in the operator's metrics"));
    }

    @Test
    @Order(4)
    void anInvalidClusterIsRejectedByTheApiServerNamingTheField() throws Exception {
        BrokerCluster bad = Serialization.unmarshal(Files.readString(Path.of("..", "manifests", "examples", "minimal.yaml")), BrokerCluster.class);
        bad.getMetadata().setNamespace(NS);
        bad.getMetadata().setName("bad");
        bad.getSpec().replicas = 0;
        assertThatThrownBy(() -> client.resource(bad).create())
                .isInstanceOf(io.fabric8.kubernetes.client.KubernetesClientException.class).hasMessageContaining("spec.replicas");
    }

    @Test
    @Order(4)
    void anImageFromAnotherRegistryOrAnAnnotationLooseningTheProfileIsReportedAndNothingRolls() throws Exception {
        String templateBefore = client.apps().statefulSets().inNamespace(NS).withName("minimal").get().getMetadata().getAnnotations()
                .get(io.capstan.operator.resources.DesiredResources.TEMPLATE_HASH);
        Map<String, String> podsBefore = new java.util.TreeMap<>();
        brokerPods("minimal").forEach(p -> podsBefore.put(p.getMetadata().getName(), p.getMetadata().getUid()));
        String annotation = "container.apparmor.security.beta.kubernetes.io/broker";
        edit("minimal", c -> {
            c.getSpec().image = "evil.example.org/capstan/broker:0.1.0";
            c.getSpec().podTemplate.metadata.annotations.put(annotation, "unconfined");
        });
        await("the InvalidSpec condition names both fields").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().untilAsserted(() -> {
            var degraded = Conditions.get(cluster("minimal").getStatus().conditions, Conditions.DEGRADED);
            assertThat(degraded.getStatus()).isEqualTo("True");
            assertThat(degraded.getReason()).isEqualTo("InvalidSpec");
            assertThat(degraded.getMessage()).contains("spec.image").contains("registry.example.com")
                    .contains("spec.podTemplate.metadata.annotations." + annotation);
        });
        assertThat(client.apps().statefulSets().inNamespace(NS).withName("minimal").get().getMetadata().getAnnotations()
                .get(io.capstan.operator.resources.DesiredResources.TEMPLATE_HASH)).as("the StatefulSet is not re-rendered").isEqualTo(templateBefore);
        Map<String, String> podsAfter = new java.util.TreeMap<>();
        brokerPods("minimal").forEach(p -> podsAfter.put(p.getMetadata().getName(), p.getMetadata().getUid()));
        assertThat(podsAfter).as("no broker was replaced").isEqualTo(podsBefore);

        edit("minimal", c -> {
            c.getSpec().image = null;
            c.getSpec().podTemplate.metadata.annotations.remove(annotation);
        });
        await("the cluster is Ready again").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().untilAsserted(() -> {
            assertThat(Conditions.get(cluster("minimal").getStatus().conditions, Conditions.DEGRADED).getStatus()).isEqualTo("False");
            assertThat(ready(cluster("minimal"))).isTrue();
        });
    }

    @Test
    @Order(5)
    void anUpgradeUnderLoadRestartsOneBrokerAtATimeAndTheApplicationSeesNoError() throws Exception {
        // and the operator is SIGKILLed once the rollout has replaced a broker: its successor must resume from what the
        // API server holds, still one broker at a time
        String bootstrap = bootstrap("minimal", 3);
        // acks=all needs two replicas in sync throughout, and an outage of 30 s would reach the application as an error
        createTopic(bootstrap, "upgrade", 3, (short) 3, Map.of("min.insync.replicas", "2"));
        java.util.Set<String> before = new java.util.HashSet<>(brokerPods("minimal").stream().map(p -> p.getMetadata().getUid()).toList());
        ProduceLoad load = new ProduceLoad(bootstrap, "upgrade", 3, 300, Duration.ofSeconds(30));
        try (load; Unavailability unavailable = new Unavailability("minimal", 3)) {
            load.awaitMoreAcknowledged(300);
            edit("minimal", c -> {
                c.getSpec().version = "0.2.0";
                c.getSpec().rack = new BrokerClusterSpec.Rack();   // and rack awareness on, in the same rollout
                c.getSpec().rack.topologyKey = "topology.kubernetes.io/zone";
            });
            await("the rollout has replaced a broker").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200))
                    .until(() -> brokerPods("minimal").stream().anyMatch(p -> !before.contains(p.getMetadata().getUid())));
            String operator = operatorPod().getMetadata().getName();
            runner.crash("capstan-system", operator);
            await("the operator's container is restarted and ready").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                    .ignoreExceptions().until(() -> operatorPod().getStatus().getContainerStatuses().get(0).getRestartCount() >= 1 && podReady(operatorPod()));
            await("every broker runs 0.2.0 and the cluster is Ready").atMost(Duration.ofMinutes(6)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> imagesByPod("minimal").values().stream().allMatch("capstan/broker:0.2.0"::equals)
                            && brokerPods("minimal").stream().allMatch(BrokerPodsTest::podReady) && ready(cluster("minimal"))
                            && "0.2.0".equals(cluster("minimal").getStatus().currentVersion));
            load.awaitMoreAcknowledged(300);
            assertThat(unavailable.max.get()).as("brokers unavailable at once during the upgrade").isEqualTo(1);
        }
        assertThat(brokerPods("minimal")).as("every broker pod was replaced").noneMatch(p -> before.contains(p.getMetadata().getUid()));
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            assertThat(admin.describeCluster().nodes().get(1, java.util.concurrent.TimeUnit.MINUTES))
                    .as("each broker read its rack from its node's zone label, through the binding the operator made")
                    .hasSize(3).allSatisfy(n -> assertThat(n.rack()).isEqualTo("zone-a"));
        }
        assertThat(load.errors).as("errors the application saw").isEmpty();
        assertThat(AcknowledgedRecords.verify(bootstrap, "upgrade", 3, load.acked)).isGreaterThan(600);
        upgradeAcked = Map.copyOf(load.acked);
    }

    @Test
    @Order(6)
    void scalingOutAndBackInUnderLoadMovesShardsAndLosesNothing() throws Exception {
        String bootstrap = bootstrap("minimal", 3);
        createTopic(bootstrap, "scale", 6, (short) 2);
        // two replicas: one of them restarts or moves at a time, so min.insync.replicas stays 1 here
        ProduceLoad load = new ProduceLoad(bootstrap, "scale", 6, 300, Duration.ofSeconds(120));
        try (load) {
            load.awaitMoreAcknowledged(300);
            edit("minimal", c -> c.getSpec().replicas = 5);
            await("5 brokers, shards placed on the new ones").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> ready(cluster("minimal")) && cluster("minimal").getStatus().readyReplicas == 5
                            && Integer.valueOf(5).equals(cluster("minimal").getStatus().shards.balancedFor)
                            && brokersHosting(bootstrap, "scale").stream().anyMatch(id -> id >= 3));
            load.awaitMoreAcknowledged(300);
            edit("minimal", c -> c.getSpec().replicas = 3);
            await("back to 3 brokers, shards drained off 3 and 4 first").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> client.apps().statefulSets().inNamespace(NS).withName("minimal").get().getSpec().getReplicas() == 3
                            && brokerPods("minimal").size() == 3 && ready(cluster("minimal"))
                            && brokersHosting(bootstrap, "scale").stream().allMatch(id -> id < 3));
            load.awaitMoreAcknowledged(300);
        }
        assertThat(load.errors).as("errors the application saw").isEmpty();
        assertThat(AcknowledgedRecords.verify(bootstrap, "scale", 6, load.acked)).isGreaterThan(900);
        assertThat(AcknowledgedRecords.verify(bootstrap, "upgrade", 3, upgradeAcked)).as("the upgrade's records are intact")
                .isEqualTo(upgradeAcked.size());
    }

    @Test
    @Order(7)
    void aCanaryUpdatesOneBrokerPausesAndIsPromotedByApproval() {
        edit("minimal", c -> {
            BrokerClusterSpec.Step one = new BrokerClusterSpec.Step();
            one.replicas = 1;
            BrokerClusterSpec.Step hold = new BrokerClusterSpec.Step();
            hold.pause = new BrokerClusterSpec.Pause();
            c.getSpec().rollout.canary = new BrokerClusterSpec.Canary();
            c.getSpec().rollout.canary.steps = List.of(one, hold);
            c.getSpec().rollout.canary.analysis.failureThreshold = 2;
            c.getSpec().version = "0.3.0";
        });
        await("one canary broker on 0.3.0, then a pause for approval").atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1))
                .until(() -> "Paused".equals(rolloutPhase("minimal")) && brokerPods("minimal").stream().allMatch(BrokerPodsTest::podReady));
        assertThat(imagesByPod("minimal")).containsExactly(Map.entry("minimal-0", "capstan/broker:0.2.0"),
                Map.entry("minimal-1", "capstan/broker:0.2.0"), Map.entry("minimal-2", "capstan/broker:0.3.0"));
        theOperatorsConsoleShowsThePausedCanary();

        edit("minimal", c -> c.getSpec().rollout.approve = "0.3.0");
        await("approved: every broker on 0.3.0").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
                .until(() -> imagesByPod("minimal").values().stream().allMatch("capstan/broker:0.3.0"::equals)
                        && ready(cluster("minimal")) && "0.3.0".equals(cluster("minimal").getStatus().currentVersion));
    }

    /**
     * The operator's web console (chart value console.enabled) for the cluster whose canary waits for approval: its
     * JSON says what the status says (phase, step, versions, ready brokers) beside the brokers and topics it reads over
     * the Kafka API, and its Rollout page, loaded in headless Chromium, shows it.
     */
    private void theOperatorsConsoleShowsThePausedCanary() {
        Pod operator = operatorPod();
        int port = operator.getSpec().getContainers().get(0).getPorts().stream().filter(p -> "console".equals(p.getName()))
                .findFirst().orElseThrow().getContainerPort();
        String base = "http://" + operator.getStatus().getPodIP() + ":" + port + "/clusters/" + NS + "/minimal/";
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        await("the console reads the cluster and its rollout").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> {
                    var reply = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "api/snapshot")).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString());
                    assertThat(reply.statusCode()).as(reply.body()).isEqualTo(200);
                    var body = json.readTree(reply.body());
                    BrokerClusterStatus status = cluster("minimal").getStatus();
                    var rollout = body.get("rollout");
                    assertThat(rollout.get("phase").asText()).isEqualTo("Paused");
                    assertThat(rollout.get("step").asInt()).as("the pause, the second of two steps").isEqualTo(2);
                    assertThat(rollout.get("steps").asInt()).isEqualTo(2);
                    assertThat(rollout.get("targetVersion").asText()).isEqualTo("0.3.0").isEqualTo(status.targetVersion);
                    assertThat(rollout.get("currentVersion").asText()).isEqualTo(status.currentVersion);
                    assertThat(rollout.get("readyReplicas").asInt()).isEqualTo(3).isEqualTo(status.readyReplicas);
                    assertThat(body.get("snapshot").get("brokers")).as("brokers read over the Kafka API").hasSize(3);
                });
        String page = io.capstan.e2e.Chromium.dumpDom(base + "#/rollout", Path.of("target", "console-chromium"));
        assertThat(page).contains("data-ready=\"rollout\"").contains("Rollout of minimal")
                .contains("data-rollout=\"Paused/2/");
        io.capstan.e2e.Chromium.screenshot(base + "#/rollout", Path.of("target", "console", "rollout.png"), Path.of("target", "console-chromium"));
    }

    @Test
    @Order(8)
    void aCanaryThatBreaksItsBrokerIsRolledBackByItself() {
        edit("minimal", c -> c.getSpec().version = "0.4.0");
        await("the broken canary is rolled back").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
                .until(() -> "RolledBack".equals(rolloutPhase("minimal")));
        var degraded = Conditions.get(cluster("minimal").getStatus().conditions, Conditions.DEGRADED);
        assertThat(degraded.getStatus()).isEqualTo("True");
        assertThat(degraded.getReason()).isEqualTo("CanaryRolledBack");
        await("every broker back on the last stable version, ready").atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1))
                .until(() -> imagesByPod("minimal").values().stream().allMatch("capstan/broker:0.3.0"::equals)
                        && brokerPods("minimal").size() == 3 && brokerPods("minimal").stream().allMatch(BrokerPodsTest::podReady));
    }

    @Test
    @Order(9)
    void pausingReconciliationStopsChanges() {
        BrokerCluster paused = edit("minimal", c -> {
            c.getSpec().paused = true;
            c.getSpec().replicas = 4;
        });
        long generation = paused.getMetadata().getGeneration();
        await("the operator has seen the paused generation").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> {
                    var c = Conditions.get(cluster("minimal").getStatus().conditions, Conditions.PAUSED);
                    return c != null && "True".equals(c.getStatus()) && c.getObservedGeneration() != null && c.getObservedGeneration() == generation;
                });
        assertThat(client.apps().statefulSets().inNamespace(NS).withName("minimal").get().getSpec().getReplicas())
                .as("a paused cluster keeps its size").isEqualTo(3);
        assertThat(brokerPods("minimal")).hasSize(3);
    }

    @Test
    @Order(10)
    void deletingTheClusterRemovesEverythingItOwned() {
        client.resources(BrokerCluster.class).inNamespace(NS).withName("minimal").delete();
        await("everything the cluster owned is gone, its processes stopped").atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> {
                    assertThat(client.apps().statefulSets().inNamespace(NS).withName("minimal").get()).isNull();
                    assertThat(client.services().inNamespace(NS).list().getItems()).isEmpty();
                    assertThat(client.configMaps().inNamespace(NS).withName("minimal-config").get()).isNull();
                    assertThat(client.policy().v1().podDisruptionBudget().inNamespace(NS).withName("minimal").get()).isNull();
                    assertThat(client.rbac().roles().inNamespace(NS).withName("minimal-broker").get()).isNull();
                    assertThat(brokerPods("minimal")).isEmpty();
                    assertThat(client.rbac().clusterRoleBindings().withName("capstan-broker-nodes-shop-minimal").get())
                            .as("the cluster-scoped binding goes too").isNull();
                    assertThat(runner.runningProcesses()).as("only the operator runs").isEqualTo(1);
                });
    }

    // --- a secured cluster: listeners with TLS and SCRAM, users and ACLs as custom resources, certificates renewed ---

    static final String SECURE = "secure";
    /** The broker certificate served before the renewal, and the brokers' pod UIDs (a renewal must restart none). */
    static String firstBrokerSerial;

    static String secretFile(String secret, String key) {
        var s = client.secrets().inNamespace(NS).withName(secret).get();
        assertThat(s).as("Secret " + secret).isNotNull();
        return new String(java.util.Base64.getDecoder().decode(s.getData().get(key)), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The documents of manifests/examples/secure.yaml, by kind and name. */
    static Map<String, String> secureExample() throws Exception {
        Map<String, String> docs = new java.util.LinkedHashMap<>();
        for (String doc : Files.readString(Path.of("..", "manifests", "examples", "secure.yaml")).split("(?m)^---\\s*$")) {
            String name = doc.replaceAll("(?s).*\\nmetadata:\\s*\\n\\s*name: (\\S+).*", "$1");
            docs.put(name, doc);
        }
        return docs;
    }

    static io.capstan.operator.api.CapstanUser user(String name) {
        return client.resources(io.capstan.operator.api.CapstanUser.class).inNamespace(NS).withName(name).get();
    }

    static boolean userReady(String name) {
        var u = user(name);
        return u != null && u.getStatus() != null && u.getStatus().conditions != null
                && Conditions.get(u.getStatus().conditions, Conditions.READY) != null
                && "True".equals(Conditions.get(u.getStatus().conditions, Conditions.READY).getStatus());
    }

    /**
     * The CA bundle a client trusts: its user's Secret's copy, or after a CA rotation the cluster's own bundle (a
     * user's copy follows within the user's next pass, up to two minutes, longer than this test's trust propagation).
     */
    static String trust(String user) {
        return rotated ? secretFile(SECURE + "-cluster-ca-cert", "ca.crt") : secretFile(user, "ca.crt");
    }

    static volatile boolean rotated;

    /** A Kafka client as an application gets it from its user's Secret: SASL_SSL with SCRAM, trusting the cluster CA. */
    static java.util.Properties scramClient(String user) {
        java.util.Properties p = tlsTo(9093, "SASL_SSL", user);
        p.put("sasl.mechanism", "SCRAM-SHA-512");
        p.put("sasl.jaas.config", secretFile(user, "sasl.jaas.config"));
        return p;
    }

    /** The same for a user with a client certificate, on the mutual-TLS listener. */
    static java.util.Properties tlsClient(String user) {
        java.util.Properties p = tlsTo(9094, "SSL", user);
        p.put("ssl.keystore.type", "PEM");
        p.put("ssl.keystore.key", secretFile(user, "user.key"));
        p.put("ssl.keystore.certificate.chain", secretFile(user, "user.crt"));
        return p;
    }

    private static java.util.Properties tlsTo(int port, String protocol, String user) {
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", SECURE + "." + NS + ".svc:" + port);
        p.put("security.protocol", protocol);
        p.put("ssl.truststore.type", "PEM");
        p.put("ssl.truststore.certificates", trust(user));
        return p;
    }

    static String brokerCertificateSerial() {
        return io.capstan.certs.Pem.certificate(secretFile(SECURE + "-broker-certs", "broker.pem")).getSerialNumber().toString(16);
    }

    static String servedSerial(String host, int port) throws Exception {
        return servedCertificate(host, port).getSerialNumber().toString(16);
    }

    /** The certificate a broker presents on a new TLS connection (verified against the cluster CA bundle). */
    static java.security.cert.X509Certificate servedCertificate(String host, int port) throws Exception {
        return servedCertificate(host, port, null);
    }

    /** The same, presenting {@code client} as this side's certificate (mutual TLS). */
    static java.security.cert.X509Certificate servedCertificate(String host, int port, io.capstan.certs.IssuedCertificate client) throws Exception {
        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (var ca : io.capstan.certs.Pem.certificates(secretFile(SECURE + "-cluster-ca-cert", "ca.crt"))) {
            trust.setCertificateEntry("ca-" + i++, ca);
        }
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        javax.net.ssl.KeyManager[] keys = null;
        if (client != null) {
            java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("me", client.key(), new char[0], new java.security.cert.Certificate[] {client.certificate(), client.ca()});
            javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, new char[0]);
            keys = kmf.getKeyManagers();
        }
        javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
        context.init(keys, tmf.getTrustManagers(), null);
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) context.getSocketFactory().createSocket(host, port)) {
            javax.net.ssl.SSLParameters params = socket.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(params);
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            if (client != null) {
                // TLS 1.3 reports a refused client certificate only on the first read: ask for ApiVersions (v0) and
                // read the start of the answer
                socket.getOutputStream().write(new byte[] {0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, (byte) 0xff, (byte) 0xff});
                socket.getOutputStream().flush();
                assertThat(socket.getInputStream().read()).as("an answer from " + host + ":" + port).isNotNegative();
            }
            return (java.security.cert.X509Certificate) socket.getSession().getPeerCertificates()[0];
        }
    }

    @Test
    @Order(11)
    void aSecuredClusterServesItsUsersOverTlsWithAclsAndRenewsItsCertificateAndItsCaUnderLoadWithoutAnError() throws Exception {
        Map<String, String> example = secureExample();
        BrokerCluster secure = Serialization.unmarshal(example.get(SECURE), BrokerCluster.class);
        secure.getMetadata().setNamespace(NS);
        // lifetimes short enough to see a renewal and a CA rotation within the test: certificates and CAs issued for 4
        // minutes, each renewed 2 minutes before its end. The pass that finds the first broker certificate due, about 2
        // minutes in, rotates the CAs; the certificate is reissued by the new CA once that CA has been trusted for
        // trustPropagation (until then the old certificate, still valid, is served)
        secure.getSpec().certificates.validity = "4m";
        secure.getSpec().certificates.renewBefore = "2m";
        secure.getSpec().certificates.caValidity = "4m";
        client.resource(secure).create();
        await("BrokerCluster secure is Ready").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
                .until(() -> ready(cluster(SECURE)));
        assertThat(client.network().v1().networkPolicies().inNamespace(NS).withName(SECURE).get().getSpec().getIngress())
                .as("client listeners, replication (brokers and operator only), admin port").hasSize(3);
        for (String name : List.of("orders-app", "billing")) {
            io.capstan.operator.api.CapstanUser u = Serialization.unmarshal(example.get(name), io.capstan.operator.api.CapstanUser.class);
            u.getMetadata().setNamespace(NS);
            client.resource(u).create();
        }
        io.capstan.operator.api.CapstanUser intruder = Serialization.unmarshal(example.get("orders-app"), io.capstan.operator.api.CapstanUser.class);
        intruder.getMetadata().setNamespace(NS);
        intruder.getMetadata().setName("intruder");
        intruder.getSpec().acls = List.of();
        client.resource(intruder).create();
        await("the users are Ready").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                .until(() -> userReady("orders-app") && userReady("billing") && userReady("intruder"));

        java.util.Properties app = scramClient("orders-app");
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(app)) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("orders", 3, (short) 3)
                    .configs(Map.of("min.insync.replicas", "2")))).all().get(2, java.util.concurrent.TimeUnit.MINUTES);
        }
        firstBrokerSerial = brokerCertificateSerial();
        // read before any renewal: the CAs rotate in the same pass that finds the first certificate due (both halfway)
        String firstCa = secretFile(SECURE + "-cluster-ca", "ca.crt");
        Map<String, String> podUids = new java.util.TreeMap<>();
        brokerPods(SECURE).forEach(p -> podUids.put(p.getMetadata().getName(), p.getMetadata().getUid()));
        assertThat(podUids).hasSize(3);

        Map<Long, AcknowledgedRecords.Ack> acked;
        try (ProduceLoad load = new ProduceLoad(app, "orders", 3, 100, Duration.ofSeconds(30))) {
            load.awaitMoreAcknowledged(300);
            await("the operator renews the broker certificate").atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> !brokerCertificateSerial().equals(firstBrokerSerial));
            String renewed = brokerCertificateSerial();
            for (int i = 0; i < 3; i++) {
                String host = SECURE + "-" + i + "." + SECURE + "-brokers." + NS + ".svc";
                await(host + " serves the renewed certificate on new connections").atMost(Duration.ofMinutes(1))
                        .pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> servedSerial(host, 9093).equals(renewed));
            }
            load.awaitMoreAcknowledged(300);

            // the cluster CA is rotated: the new CA joins every bundle, and only then do brokers serve certificates it signed
            await("the operator rotates the cluster CA").atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> !secretFile(SECURE + "-cluster-ca", "ca.crt").equals(firstCa));
            java.security.cert.X509Certificate oldCa = io.capstan.certs.Pem.certificate(firstCa);
            java.security.cert.X509Certificate newCa = io.capstan.certs.Pem.certificate(secretFile(SECURE + "-cluster-ca", "ca.crt"));
            // the same pass writes the CA's Secret, then the bundles: the test may read between the writes
            await("both CAs trusted during the switch").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
                assertThat(io.capstan.certs.Pem.certificates(secretFile(SECURE + "-cluster-ca-cert", "ca.crt"))).contains(oldCa, newCa);
                assertThat(io.capstan.certs.Pem.certificates(secretFile(SECURE + "-broker-certs", "cluster-ca.crt"))).contains(oldCa, newCa);
            });
            rotated = true;
            // a peer with a certificate of the new CA, as a follower after the switch: the replication listener takes it
            io.capstan.certs.IssuedCertificate peer = io.capstan.certs.CertificateAuthority.of(newCa,
                    io.capstan.certs.Pem.privateKey(secretFile(SECURE + "-cluster-ca", "ca.key"))).issue(
                    io.capstan.certs.CertificateAuthority.Request.of("CN=" + SECURE + "-broker,O=capstan", Duration.ofMinutes(10)));
            for (int i = 0; i < 3; i++) {
                String host = SECURE + "-" + i + "." + SECURE + "-brokers." + NS + ".svc";
                await(host + " serves a certificate of the new CA").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                        .ignoreExceptions().untilAsserted(() -> servedCertificate(host, 9093).verify(newCa.getPublicKey()));
                // each listener re-reads its stores on its own schedule (at most once per check interval)
                await(host + " replication listener serves a certificate of the new CA").atMost(Duration.ofMinutes(1))
                        .pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                        .untilAsserted(() -> servedCertificate(host, 9091, peer).verify(newCa.getPublicKey()));
            }
            load.awaitMoreAcknowledged(300);
            acked = load.acked;
            load.close();
            assertThat(load.errors).as("errors the application saw while the certificate was renewed and the CA rotated").isEmpty();
        }
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(scramClient("orders-app"))) {
            admin.describeTopics(List.of("orders")).allTopicNames().get(1, java.util.concurrent.TimeUnit.MINUTES).get("orders").partitions()
                    .forEach(p -> assertThat(p.isr()).as("every replica in sync after the rotation: partition " + p.partition())
                            .hasSize(3));
        }
        assertThat(AcknowledgedRecords.verify(scramClient("orders-app"), "orders", 3, acked)).as("every acknowledged record read back at its offset")
                .isEqualTo(acked.size());
        Map<String, String> after = new java.util.TreeMap<>();
        brokerPods(SECURE).forEach(p -> {
            after.put(p.getMetadata().getName(), p.getMetadata().getUid());
            assertThat(p.getStatus().getContainerStatuses().get(0).getRestartCount()).as(p.getMetadata().getName() + " restarts").isZero();
        });
        assertThat(after).as("no broker was replaced for the renewal or the rotation").isEqualTo(podUids);

        // a service with a client certificate from the clients CA reads over mutual TLS as its ACLs allow
        java.util.Properties billing = tlsClient("billing");
        billing.put("group.id", "billing");
        billing.put("auto.offset.reset", "earliest");
        try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
                billing, new org.apache.kafka.common.serialization.ByteArrayDeserializer(), new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            consumer.subscribe(List.of("orders"));
            java.util.concurrent.atomic.AtomicInteger read = new java.util.concurrent.atomic.AtomicInteger();
            await("billing reads over mutual TLS").atMost(Duration.ofMinutes(1)).until(() -> {
                read.addAndGet(consumer.poll(Duration.ofMillis(500)).count());
                return read.get() >= 100;
            });
        }
        // a user without ACLs authenticates and is refused, as Kafka refuses it
        java.util.Properties refused = scramClient("intruder");
        refused.put("max.block.ms", "30000");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(refused, new ByteArraySerializer(), new ByteArraySerializer())) {
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>("orders", new byte[] {1})).get(1, java.util.concurrent.TimeUnit.MINUTES))
                    .hasCauseInstanceOf(org.apache.kafka.common.errors.TopicAuthorizationException.class);
        }
    }

    @Test
    @Order(12)
    void deletingAUserRevokesItsAccessWithinSecondsAndItsCredentialsGo() throws Exception {
        java.util.Properties app = scramClient("orders-app");
        app.put("max.block.ms", "10000");
        app.put("delivery.timeout.ms", "10000");
        app.put("request.timeout.ms", "5000");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(app, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>("orders", new byte[] {1})).get(1, java.util.concurrent.TimeUnit.MINUTES);
            long deleted = System.nanoTime();
            client.resources(io.capstan.operator.api.CapstanUser.class).inNamespace(NS).withName("orders-app").delete();
            Exception refusal = null;
            while (refusal == null && System.nanoTime() - deleted < java.util.concurrent.TimeUnit.MINUTES.toNanos(1)) {
                try {
                    producer.send(new ProducerRecord<>("orders", new byte[] {2})).get(1, java.util.concurrent.TimeUnit.MINUTES);
                    Thread.sleep(100); // pacing of the application's sends, not synchronisation
                } catch (java.util.concurrent.ExecutionException e) {
                    refusal = (Exception) e.getCause();
                }
            }
            long revokedMs = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - deleted);
            System.out.printf("orders-app refused %d ms after its CapstanUser was deleted: %s%n", revokedMs, refusal);
            assertThat(refusal).as("the open connection's next produce is refused").isInstanceOf(org.apache.kafka.common.errors.TopicAuthorizationException.class);
            assertThat(revokedMs).as("revoked within seconds").isLessThan(15_000);
        }
        await("the user is gone once the cluster forgot it, and its Secret with it").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> {
                    assertThat(user("orders-app")).isNull();
                    assertThat(client.secrets().inNamespace(NS).withName("orders-app").get()).isNull();
                });
        app.put("max.block.ms", "20000");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(app, new ByteArraySerializer(), new ByteArraySerializer())) {
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>("orders", new byte[] {3})).get(1, java.util.concurrent.TimeUnit.MINUTES))
                    .as("the old password no longer logs in").hasCauseInstanceOf(org.apache.kafka.common.errors.SaslAuthenticationException.class);
        }
    }

    /** Sends {@code count} records from sequence {@code from} acks=all and records each acknowledgement. */
    static void produce(String bootstrap, String topic, long from, long count, Map<Long, AcknowledgedRecords.Ack> acked) {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(AcknowledgedRecords.durableProducer(bootstrap),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (long seq = from; seq < from + count; seq++) {
                long s = seq;
                producer.send(new ProducerRecord<>(topic, 0, null, AcknowledgedRecords.value(seq)), (md, e) -> {
                    if (e == null) {
                        acked.put(s, new AcknowledgedRecords.Ack(md.partition(), md.offset(), s));
                    }
                });
            }
            producer.flush();
        }
    }

    static String claimRequest(String claim) {
        return client.persistentVolumeClaims().inNamespace(NS).withName(claim).get().getSpec().getResources().getRequests().get("storage").toString();
    }

    static io.fabric8.kubernetes.api.model.Condition degraded(String cluster) {
        BrokerCluster c = cluster(cluster);
        return c.getStatus() == null ? null : Conditions.get(c.getStatus().conditions, Conditions.DEGRADED);
    }

    @Test
    @Order(13)
    void growingTheVolumesKeepsTheBrokerServingAndAShrinkOrAVolumeThatCannotGrowIsRefusedNamingTheField() throws Exception {
        // a StorageClass that allows expansion, and a volume of it for a one-broker cluster
        client.storage().v1().storageClasses().resource(new io.fabric8.kubernetes.api.model.storage.StorageClassBuilder()
                .withNewMetadata().withName("expandable").endMetadata().withProvisioner("capstan.io/e2e-local")
                .withAllowVolumeExpansion(true).withVolumeBindingMode("Immediate").build()).create();
        client.persistentVolumes().resource(new io.fabric8.kubernetes.api.model.PersistentVolumeBuilder()
                .withNewMetadata().withName("pv-expandable-0").endMetadata().withNewSpec().withStorageClassName("expandable")
                .addToCapacity("storage", new io.fabric8.kubernetes.api.model.Quantity("10Gi")).withAccessModes("ReadWriteOnce")
                .withPersistentVolumeReclaimPolicy("Retain")
                .withNewHostPath().withPath(controlPlane.work().resolve("volumes").resolve("pv-expandable-0").toString()).endHostPath()
                .endSpec().build()).create();
        BrokerCluster sized = new BrokerCluster();
        sized.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("sized").withNamespace(NS).build());
        sized.setSpec(new BrokerClusterSpec());
        sized.getSpec().replicas = 1;
        sized.getSpec().version = "0.1.0";
        sized.getSpec().storage.size = "10Gi";
        sized.getSpec().storage.storageClassName = "expandable";
        client.resource(sized).create();
        await("BrokerCluster sized is Ready").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1)).until(() -> ready(cluster("sized")));
        String bootstrap = "sized." + NS + ".svc:9092";
        createTopic(bootstrap, "sized", 1, (short) 1);
        Map<Long, AcknowledgedRecords.Ack> acked = new ConcurrentHashMap<>();
        produce(bootstrap, "sized", 0, 500, acked);
        Pod before = brokerPods("sized").get(0);
        var templateBefore = client.apps().statefulSets().inNamespace(NS).withName("sized").get().getSpec().getVolumeClaimTemplates();

        long generation;
        try (Unavailability unavailable = new Unavailability("sized", 1)) {
            generation = edit("sized", c -> c.getSpec().storage.size = "20Gi").getMetadata().getGeneration();
            await("the operator asks for the larger volume").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                    .until(() -> claimRequest("data-sized-0").equals("20Gi"));
            // the pass that patched the claim writes the status after it: awaited, not read at once
            await("the cluster reports its volume expanding").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(200))
                    .until(() -> "Expanding".equals(cluster("sized").getStatus().storage.phase));
            // what a CSI driver's resizer and the kubelet do for a real StorageClass (this node's volumes are folders):
            // the volume and then the claim report the new capacity
            client.persistentVolumes().withName("pv-expandable-0").edit(pv -> {
                pv.getSpec().getCapacity().put("storage", new io.fabric8.kubernetes.api.model.Quantity("20Gi"));
                return pv;
            });
            var claim = client.persistentVolumeClaims().inNamespace(NS).withName("data-sized-0").get();
            claim.getStatus().getCapacity().put("storage", new io.fabric8.kubernetes.api.model.Quantity("20Gi"));
            client.resource(claim).updateStatus();
            await("the cluster reports its volumes grown").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> {
                        BrokerCluster c = cluster("sized");
                        assertThat(c.getStatus().observedGeneration).isEqualTo(generation);
                        assertThat(List.of(c.getStatus().storage.phase, c.getStatus().storage.message))
                                .containsExactly("Ready", "1 of 1 volumes at their size");
                    });
            produce(bootstrap, "sized", 500, 500, acked);
            assertThat(unavailable.max.get()).as("brokers unavailable at once while the volume grew").isZero();
        }
        Pod after = brokerPods("sized").get(0);
        assertThat(after.getMetadata().getUid()).as("the broker's pod was not replaced").isEqualTo(before.getMetadata().getUid());
        assertThat(after.getStatus().getContainerStatuses().get(0).getRestartCount()).isZero();
        assertThat(client.apps().statefulSets().inNamespace(NS).withName("sized").get().getSpec().getVolumeClaimTemplates())
                .as("the StatefulSet's template is as created: the API server refuses to change it").isEqualTo(templateBefore);
        assertThat(acked).hasSize(1_000);
        assertThat(AcknowledgedRecords.verify(bootstrap, "sized", 1, acked)).isEqualTo(1_000);

        // volumes cannot shrink: refused, naming the field, and nothing changes
        long shrunk = edit("sized", c -> c.getSpec().storage.size = "5Gi").getMetadata().getGeneration();
        await("the shrink is refused").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            var d = degraded("sized");
            assertThat(d.getObservedGeneration()).isEqualTo(shrunk);
            assertThat(List.of(d.getStatus(), d.getReason())).containsExactly("True", "StorageChangeRefused");
            assertThat(d.getMessage()).startsWith("spec.storage.size: is 5Gi, smaller than the brokers' volumes (20Gi); volumes cannot shrink");
        });
        assertThat(claimRequest("data-sized-0")).isEqualTo("20Gi");
        edit("sized", c -> c.getSpec().storage.size = "20Gi");
        await("back to a size the volumes have").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> "False".equals(degraded("sized").getStatus()));

        // the secured cluster's volumes have no StorageClass: the API server itself refuses to grow them
        String secureClaim = "data-" + SECURE + "-0";
        String secureSize = claimRequest(secureClaim);
        edit(SECURE, c -> c.getSpec().storage.size = "50Gi");
        await("the API server's refusal is reported").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            var d = degraded(SECURE);
            assertThat(List.of(d.getStatus(), d.getReason())).containsExactly("True", "StorageChangeRefused");
            assertThat(d.getMessage()).startsWith("spec.storage.size: is 50Gi, but the API server refused to grow data-" + SECURE + "-")
                    .contains("allowVolumeExpansion");
        });
        assertThat(claimRequest(secureClaim)).isEqualTo(secureSize);
        assertThat(ready(cluster(SECURE))).isTrue();
        edit(SECURE, c -> c.getSpec().storage.size = secureSize);
    }

    static io.capstan.operator.api.CapstanTopic capstanTopic(String name) {
        return client.resources(io.capstan.operator.api.CapstanTopic.class).inNamespace(NS).withName(name).get();
    }

    /**
     * The topic's condition of {@code type}; an AssertionError (which untilAsserted retries) while it has none, as
     * before the operator's first status write.
     */
    static io.fabric8.kubernetes.api.model.Condition topicCondition(String name, String type) {
        var t = capstanTopic(name);
        var condition = t == null || t.getStatus() == null ? null : Conditions.get(t.getStatus().conditions, type);
        assertThat(condition).as("CapstanTopic %s's %s condition", name, type).isNotNull();
        return condition;
    }

    static Map<String, String> explicitTopicConfigs(org.apache.kafka.clients.admin.Admin admin, String topic) throws Exception {
        var resource = new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic);
        Map<String, String> out = new java.util.TreeMap<>();
        admin.describeConfigs(List.of(resource)).all().get(1, java.util.concurrent.TimeUnit.MINUTES).get(resource).entries().stream()
                .filter(e -> e.source() == org.apache.kafka.clients.admin.ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG)
                .forEach(e -> out.put(e.name(), e.value()));
        return out;
    }

    @Test
    @Order(14)
    void aCapstanTopicIsCreatedGrownAndDeletedThroughTheKafkaApiWithRefusalsAndDriftReported() throws Exception {
        String bootstrap = "sized." + NS + ".svc:9092";
        String topic = "Payments_Events"; // a Kafka name no Kubernetes object can have
        var resource = new io.capstan.operator.api.CapstanTopic();
        resource.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("payments").withNamespace(NS).build());
        resource.setSpec(new io.capstan.operator.api.CapstanTopicSpec());
        resource.getSpec().cluster = "sized";
        resource.getSpec().topicName = topic;
        resource.getSpec().partitions = 2;
        resource.getSpec().replicationFactor = 1;
        resource.getSpec().config.put("retention.ms", "3600000");
        client.resource(resource).create();
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            await("the topic is created and Ready").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                var t = capstanTopic("payments");
                assertThat(topicCondition("payments", Conditions.READY).getStatus()).isEqualTo("True");
                assertThat(List.of(t.getStatus().topicName, t.getStatus().partitions, t.getStatus().replicationFactor))
                        .containsExactly(topic, 2, 1);
                assertThat(t.getStatus().shards).hasSize(2).allSatisfy(s -> {
                    assertThat(s.leader).isZero();
                    assertThat(s.isr).containsExactly(0);
                });
            });
            assertThat(admin.describeTopics(List.of(topic)).allTopicNames().get(1, java.util.concurrent.TimeUnit.MINUTES).get(topic)
                    .partitions()).hasSize(2);
            assertThat(explicitTopicConfigs(admin, topic)).isEqualTo(Map.of("retention.ms", "3600000"));

            // grown and reconfigured by editing the resource
            var edited = client.resources(io.capstan.operator.api.CapstanTopic.class).inNamespace(NS).withName("payments").edit(t -> {
                t.getSpec().partitions = 4;
                t.getSpec().config.put("retention.ms", "7200000");
                t.getSpec().config.put("max.message.bytes", "2097152");
                return t;
            });
            await("the topic has 4 partitions and the new configs").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> {
                        assertThat(admin.describeTopics(List.of(topic)).allTopicNames().get(1, java.util.concurrent.TimeUnit.MINUTES)
                                .get(topic).partitions()).hasSize(4);
                        assertThat(explicitTopicConfigs(admin, topic)).isEqualTo(Map.of("retention.ms", "7200000", "max.message.bytes", "2097152"));
                        assertThat(capstanTopic("payments").getStatus().observedGeneration).isEqualTo(edited.getMetadata().getGeneration());
                        assertThat(capstanTopic("payments").getStatus().shards).hasSize(4);
                    });

            // a config set through the Kafka API is drift: reported at the next pass (within topics.resyncInterval, 10 s
            // here), and left alone
            var configResource = new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic);
            admin.incrementalAlterConfigs(Map.of(configResource, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                    new org.apache.kafka.clients.admin.ConfigEntry("retention.bytes", "1048576"), org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET))))
                    .all().get(1, java.util.concurrent.TimeUnit.MINUTES);
            await("the drift is reported").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
                var drifted = topicCondition("payments", io.capstan.operator.topics.CapstanTopicReconciler.DRIFTED);
                assertThat(drifted.getStatus()).isEqualTo("True");
                assertThat(drifted.getMessage()).startsWith("set through the Kafka API, not in spec.config: retention.bytes=1048576");
            });
            assertThat(explicitTopicConfigs(admin, topic)).containsEntry("retention.bytes", "1048576");

            // fewer partitions: refused, naming the field; the topic keeps its 4
            long shrunk = client.resources(io.capstan.operator.api.CapstanTopic.class).inNamespace(NS).withName("payments").edit(t -> {
                t.getSpec().partitions = 2;
                return t;
            }).getMetadata().getGeneration();
            await("fewer partitions are refused").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                var degraded = topicCondition("payments", Conditions.DEGRADED);
                assertThat(degraded.getObservedGeneration()).isEqualTo(shrunk);
                assertThat(List.of(degraded.getStatus(), degraded.getReason())).containsExactly("True", "ChangeRefused");
                assertThat(degraded.getMessage()).startsWith("spec.partitions: is 2 but the topic has 4 partitions, and Kafka cannot remove partitions");
            });
            assertThat(admin.describeTopics(List.of(topic)).allTopicNames().get(1, java.util.concurrent.TimeUnit.MINUTES).get(topic)
                    .partitions()).hasSize(4);

            // deleting the resource deletes the topic (a finalizer holds it until then)
            client.resources(io.capstan.operator.api.CapstanTopic.class).inNamespace(NS).withName("payments").delete();
            await("the topic and the resource are gone").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                assertThat(capstanTopic("payments")).isNull();
                assertThat(admin.listTopics().names().get(1, java.util.concurrent.TimeUnit.MINUTES)).doesNotContain(topic);
            });
        }

        // on the secured cluster the operator reaches the brokers over their replication listener with its own certificate
        var secured = new io.capstan.operator.api.CapstanTopic();
        secured.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("audit").withNamespace(NS).build());
        secured.setSpec(new io.capstan.operator.api.CapstanTopicSpec());
        secured.getSpec().cluster = SECURE;
        secured.getSpec().partitions = 3;
        secured.getSpec().replicationFactor = 3;
        client.resource(secured).create();
        await("the secured cluster's topic is Ready").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            var t = capstanTopic("audit");
            assertThat(topicCondition("audit", Conditions.READY).getStatus()).as(String.valueOf(topicCondition("audit", Conditions.READY)))
                    .isEqualTo("True");
            assertThat(t.getStatus().shards).hasSize(3).allSatisfy(sh -> assertThat(sh.isr).hasSize(3));
        });
        client.resources(io.capstan.operator.api.CapstanTopic.class).inNamespace(NS).withName("audit").delete();
        await("the secured cluster's topic resource is gone").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> capstanTopic("audit") == null);
    }

    @Test
    @Order(15)
    void aRackAwareClusterOnThreeNodesInThreeZonesPlacesEveryShardsReplicasInThreeZones() throws Exception {
        Images images = Images.fromCheckout(Path.of("..").toAbsolutePath().normalize(), List.of("0.1.0"));
        for (String zone : List.of("zone-b", "zone-c")) {
            String node = "capstan-node-" + zone;
            PodRunner.registerNode(client, node, Map.of("topology.kubernetes.io/zone", zone));
            PodRunner other = new PodRunner(client, node, controlPlane.work(), images, dns, controlPlane.apiServerUrl(), controlPlane.caCertificate());
            other.start();
            otherNodes.add(other);
        }
        localVolumes("pv-zoned-", 3);
        BrokerCluster zoned = new BrokerCluster();
        zoned.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("zoned").withNamespace(NS).build());
        zoned.setSpec(new BrokerClusterSpec());
        zoned.getSpec().replicas = 3;
        zoned.getSpec().version = "0.1.0";
        zoned.getSpec().rack = new BrokerClusterSpec.Rack();
        zoned.getSpec().rack.topologyKey = "topology.kubernetes.io/zone";
        client.resource(zoned).create();
        await("BrokerCluster zoned is Ready").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1)).until(() -> ready(cluster("zoned")));

        // the scheduler spread the brokers over the three nodes, and each broker registered its node's zone as its rack
        Map<Integer, String> zoneOfBroker = new java.util.TreeMap<>();
        for (Pod pod : brokerPods("zoned")) {
            int id = Integer.parseInt(pod.getMetadata().getName().substring("zoned-".length()));
            zoneOfBroker.put(id, client.nodes().withName(pod.getSpec().getNodeName()).get().getMetadata().getLabels()
                    .get("topology.kubernetes.io/zone"));
        }
        assertThat(new java.util.TreeSet<>(zoneOfBroker.values())).as("brokers by zone: " + zoneOfBroker)
                .containsExactly("zone-a", "zone-b", "zone-c");
        String bootstrap = "zoned." + NS + ".svc:9092";
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            Map<Integer, String> rackOfBroker = new java.util.TreeMap<>();
            admin.describeCluster().nodes().get(1, java.util.concurrent.TimeUnit.MINUTES).forEach(n -> rackOfBroker.put(n.id(), n.rack()));
            assertThat(rackOfBroker).as("each broker's rack, as Kafka clients see it, is its node's zone").isEqualTo(zoneOfBroker);
            createTopic(bootstrap, "spread", 6, (short) 3);
            var partitions = admin.describeTopics(List.of("spread")).allTopicNames().get(1, java.util.concurrent.TimeUnit.MINUTES)
                    .get("spread").partitions();
            assertThat(partitions).hasSize(6).allSatisfy(p -> assertThat(p.replicas().stream().map(n -> zoneOfBroker.get(n.id())).distinct())
                    .as("partition " + p.partition() + "'s replicas' zones").hasSize(3));
        }
        Map<Long, AcknowledgedRecords.Ack> acked = new ConcurrentHashMap<>();
        produce(bootstrap, "spread", 0, 600, acked);
        assertThat(acked).hasSize(600);
        assertThat(AcknowledgedRecords.verify(bootstrap, "spread", 6, acked)).isEqualTo(600);
    }

    static io.capstan.operator.api.CapstanRebalance rebalance(String name) {
        return client.resources(io.capstan.operator.api.CapstanRebalance.class).inNamespace(NS).withName(name).get();
    }

    /**
     * Issue 18, load-based rebalancing, on the three-zone cluster: two topics take a steady load, every shard led by
     * broker 0: "skewed" has its six partitions on brokers 0 and 1 only, "led" its three on all three brokers. A
     * CapstanRebalance measures each shard's traffic from the brokers' metrics and proposes replica moves (onto broker
     * 2) and leadership transfers; an approval naming another proposal changes nothing; approved, the moves finish
     * with every shard where the proposal put it, leaders included, and no throttle left on a broker or topic (that
     * the throttle is set while copies run is not observed here: RebalanceProposalTest checks what is throttled,
     * KafkaToolsTest and ReplicatedClusterTest that brokers enforce it). The
     * producers see no error, every acknowledged record is read back at its offset, and the p99 acknowledgement latency
     * during the moves is reported beside the one before.
     */
    @Test
    @Order(16)
    void anApprovedRebalanceProposalMovesLeadersAndReplicasUnderLoadWithoutAProducerError() throws Exception {
        String bootstrap = "zoned." + NS + ".svc:9092";
        Map<Integer, List<Integer>> onTwo = new java.util.TreeMap<>();
        for (int p = 0; p < 6; p++) {
            onTwo.put(p, List.of(0, 1));
        }
        Map<Integer, List<Integer>> onThree = new java.util.TreeMap<>();
        for (int p = 0; p < 3; p++) {
            onThree.put(p, List.of(0, 1, 2));
        }
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("skewed", onTwo),
                    new org.apache.kafka.clients.admin.NewTopic("led", onThree))).all().get(1, java.util.concurrent.TimeUnit.MINUTES);
            await("every shard led by broker 0").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                    assertThat(admin.describeTopics(List.of("skewed", "led")).allTopicNames().get(1, java.util.concurrent.TimeUnit.MINUTES)
                            .values()).allSatisfy(d -> assertThat(d.partitions()).allSatisfy(p -> assertThat(p.leader().id()).isZero())));
        }
        ProduceLoad skewed = new ProduceLoad(bootstrap, "skewed", 6, 200, Duration.ofSeconds(30));
        ProduceLoad led = new ProduceLoad(bootstrap, "led", 3, 100, Duration.ofSeconds(30));
        try (skewed; led) {
            skewed.awaitMoreAcknowledged(200);
            led.awaitMoreAcknowledged(100);
            long measuring = System.nanoTime();
            var resource = new io.capstan.operator.api.CapstanRebalance();
            resource.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("even").withNamespace(NS).build());
            resource.setSpec(new io.capstan.operator.api.CapstanRebalanceSpec());
            resource.getSpec().cluster = "zoned";
            resource.getSpec().sampleSeconds = 5;
            resource.getSpec().throttleBytesPerSecond = 1_048_576L;
            client.resource(resource).create();
            await("a proposal").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                    .until(() -> rebalance("even").getStatus() != null && "Proposed".equals(rebalance("even").getStatus().phase));
            var proposal = rebalance("even").getStatus().proposal;
            System.out.printf("rebalance proposal %s: %d changes, busiest broker %s -> %s times the mean; loads (B/s) %s -> %s; moves %s%n",
                    proposal.id, proposal.moveCount, proposal.maxOverMeanBefore, proposal.maxOverMeanAfter, proposal.brokerLoadBefore,
                    proposal.brokerLoadAfter, proposal.moves.stream().map(m -> m.kind + " " + m.topic + "-" + m.partition + " " + m.from + "->" + m.to).toList());
            assertThat(proposal.brokerLoadBefore.get("0")).as("broker 0 leads every loaded shard")
                    .isGreaterThan(proposal.brokerLoadBefore.get("1")).isGreaterThan(proposal.brokerLoadBefore.get("2"));
            assertThat(Double.parseDouble(proposal.maxOverMeanAfter)).isLessThan(Double.parseDouble(proposal.maxOverMeanBefore));
            assertThat(proposal.moves).extracting(m -> m.kind).contains("Leader", "Replica");
            assertThat(proposal.moves).allSatisfy(m -> assertThat(m.topic).isIn("skewed", "led"));

            client.resources(io.capstan.operator.api.CapstanRebalance.class).inNamespace(NS).withName("even").edit(r -> {
                r.getSpec().approvedProposal = "0123456789ab".equals(proposal.id) ? "ba9876543210" : "0123456789ab";
                return r;
            });
            await("an approval of another proposal is refused, naming the field").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> {
                        var degraded = rebalance("even").getStatus().conditions.stream().filter(c -> c.getType().equals(Conditions.DEGRADED)).findFirst();
                        assertThat(degraded).hasValueSatisfying(c -> {
                            assertThat(c.getReason()).isEqualTo("UnknownProposal");
                            assertThat(c.getMessage()).startsWith("spec.approvedProposal");
                        });
                    });
            assertThat(rebalance("even").getStatus().phase).isEqualTo("Proposed");
            try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                var topics = admin.describeTopics(List.of("skewed", "led")).allTopicNames().get(1, java.util.concurrent.TimeUnit.MINUTES);
                assertThat(topics.get("skewed").partitions()).as("nothing moved").allSatisfy(p -> assertThat(p.replicas().stream().map(n -> n.id()).toList())
                        .containsExactly(0, 1));
                assertThat(topics.get("led").partitions()).as("no leader moved").allSatisfy(p -> assertThat(p.leader().id()).isZero());
            }

            long moving = System.nanoTime();
            client.resources(io.capstan.operator.api.CapstanRebalance.class).inNamespace(NS).withName("even").edit(r -> {
                r.getSpec().approvedProposal = proposal.id;
                return r;
            });
            await("the proposal carried out").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200))
                    .until(() -> "Done".equals(rebalance("even").getStatus().phase));
            long moved = System.nanoTime();
            assertThat(rebalance("even").getStatus().conditions).as("the refused approval is no longer reported once the right one ran")
                    .filteredOn(c -> c.getType().equals(Conditions.DEGRADED)).singleElement().satisfies(c -> assertThat(c.getStatus()).isEqualTo("False"));
            skewed.awaitMoreAcknowledged(200);
            led.awaitMoreAcknowledged(100);
            try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                var topics = admin.describeTopics(List.of("skewed", "led")).allTopicNames().get(1, java.util.concurrent.TimeUnit.MINUTES);
                for (var target : proposal.targets) {
                    var p = topics.get(target.topic).partitions().get(target.partition);
                    String name = target.topic + "-" + target.partition;
                    assertThat(p.replicas().stream().map(n -> n.id()).toList()).as("%s's replicas", name)
                            .containsExactlyInAnyOrderElementsOf(target.replicas);
                    assertThat(p.leader().id()).as("%s's leader", name).isEqualTo(target.replicas.get(0));
                    assertThat(p.isr().stream().map(n -> n.id()).toList()).as("%s's ISR", name).containsExactlyInAnyOrderElementsOf(target.replicas);
                }
                for (int broker = 0; broker < 3; broker++) {
                    var resourceOf = new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.BROKER,
                            String.valueOf(broker));
                    assertThat(admin.describeConfigs(List.of(resourceOf)).all().get(1, java.util.concurrent.TimeUnit.MINUTES).get(resourceOf)
                            .entries()).as("broker %d's dynamic configs after the rebalance", broker)
                            .noneMatch(e -> e.name().endsWith("replication.throttled.rate")
                                    && e.source() != org.apache.kafka.clients.admin.ConfigEntry.ConfigSource.DEFAULT_CONFIG);
                }
                assertThat(explicitTopicConfigs(admin, "skewed")).as("the topic's throttled replicas removed").isEmpty();
                assertThat(explicitTopicConfigs(admin, "led")).as("a topic only transferring leadership is not throttled").isEmpty();
            }
            double[] before = skewed.ackLatencyMs(99, measuring, moving);
            double[] during = skewed.ackLatencyMs(99, moving, moved);
            System.out.printf("rebalance under load (300 records/s, acks=all): produce p99 of topic skewed %.1f ms over %d acks before,"
                    + " %.1f ms over %d acks during the %d ms the moves took%n", before[0], (long) before[1], during[0], (long) during[1],
                    (moved - moving) / 1_000_000);
        }
        assertThat(skewed.errors).as("errors the producer of skewed saw").isEmpty();
        assertThat(led.errors).as("errors the producer of led saw").isEmpty();
        assertThat(AcknowledgedRecords.verify(bootstrap, "skewed", 6, skewed.acked)).isEqualTo(skewed.acked.size());
        assertThat(AcknowledgedRecords.verify(bootstrap, "led", 3, led.acked)).isEqualTo(led.acked.size());
    }

    /** {@code count} more 10Gi volumes on local folders, named {@code prefix}0, {@code prefix}1, ... */
    static void localVolumes(String prefix, int count) {
        localVolumes(prefix, count, null, null);
    }

    /** As {@link #localVolumes(String, int)}, of {@code storageClass} and pinned to {@code node} (a local volume) unless null. */
    static void localVolumes(String prefix, int count, String storageClass, String node) {
        for (int i = 0; i < count; i++) {
            var spec = new io.fabric8.kubernetes.api.model.PersistentVolumeBuilder()
                    .withNewMetadata().withName(prefix + i).endMetadata().withNewSpec()
                    .addToCapacity("storage", new io.fabric8.kubernetes.api.model.Quantity("10Gi")).withAccessModes("ReadWriteOnce")
                    .withPersistentVolumeReclaimPolicy("Retain").withStorageClassName(storageClass)
                    .withNewHostPath().withPath(controlPlane.work().resolve("volumes").resolve(prefix + i).toString()).endHostPath();
            if (node != null) {
                spec = spec.withNewNodeAffinity().withNewRequired().addNewNodeSelectorTerm().addNewMatchExpression()
                        .withKey("kubernetes.io/hostname").withOperator("In").withValues(node).endMatchExpression()
                        .endNodeSelectorTerm().endRequired().endNodeAffinity();
            }
            client.persistentVolumes().resource(spec.endSpec().build()).create();
        }
    }

    static BrokerClusterSpec.ListenerSpec listener(String name, int port, String type) {
        BrokerClusterSpec.ListenerSpec l = new BrokerClusterSpec.ListenerSpec();
        l.name = name;
        l.port = port;
        l.type = type;
        return l;
    }

    static BrokerClusterSpec.ListenerSpec passthroughListener(String name, int port, String type, String bootstrap, String broker) {
        BrokerClusterSpec.ListenerSpec l = listener(name, port, type);
        l.tls = true;
        l.hosts = new BrokerClusterSpec.Hosts();
        l.hosts.bootstrap = bootstrap;
        l.hosts.broker = broker;
        l.hosts.port = 9443;
        return l;
    }

    /**
     * Gateway API's standard-channel CRDs as the control-plane build fetched them from the Go module proxy (GatewayClass,
     * Gateway, TLSRoute), a GatewayClass and a Gateway "edge" with a TLS Passthrough listener "kafka" on 9443.
     */
    static void installGatewayApi() throws Exception {
        Path crds = Path.of("..", ".cache", "gateway-api", "v1.6.3");
        for (String kind : List.of("gatewayclasses", "gateways", "tlsroutes")) {
            Path file = crds.resolve("gateway.networking.k8s.io_" + kind + ".yaml");
            assertThat(file).as("Gateway API's CRDs: e2e-tests/k8s/build-control-plane.sh fetches them").exists();
            try (var in = Files.newInputStream(file)) {
                client.apiextensions().v1().customResourceDefinitions().load(in).serverSideApply();
            }
            await("CRD " + kind + " established").atMost(Duration.ofMinutes(1)).until(() -> {
                var crd = client.apiextensions().v1().customResourceDefinitions().withName(kind + ".gateway.networking.k8s.io").get();
                return crd != null && crd.getStatus() != null && crd.getStatus().getConditions().stream()
                        .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
            });
        }
        client.resource(new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder().withApiVersion("gateway.networking.k8s.io/v1")
                .withKind("GatewayClass").withNewMetadata().withName("capstan-test").endMetadata()
                .addToAdditionalProperties("spec", Map.of("controllerName", "capstan.io/test-gateway")).build()).serverSideApply();
        Map<String, Object> listener = Map.of("name", "kafka", "protocol", "TLS", "port", 9443, "tls", Map.of("mode", "Passthrough"),
                "allowedRoutes", Map.of("kinds", List.of(Map.of("kind", "TLSRoute"))));
        client.resource(new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder().withApiVersion("gateway.networking.k8s.io/v1")
                .withKind("Gateway").withNewMetadata().withName("edge").withNamespace(NS).endMetadata()
                .addToAdditionalProperties("spec", Map.of("gatewayClassName", "capstan-test", "listeners", List.of(listener))).build()).serverSideApply();
    }

    /**
     * Through the ingress controller and the gateway: each advertises the brokers by host name, TLS clients (hostname
     * verification on) produce through one and read every record back through the other, and every host name's
     * connections reached its own broker.
     */
    static void passthroughRoundTrip(io.capstan.e2e.k8s.kubelet.SniRouter ingressController, io.capstan.e2e.k8s.kubelet.SniRouter gateway)
            throws Exception {
        assertThat(listenerBootstrap("outside", "ing")).isEqualTo("kafka.outside.test:9443");
        assertThat(listenerBootstrap("outside", "gw")).isEqualTo("gw.outside.test:9443");
        String ca = secretFile("outside-cluster-ca-cert", "ca.crt");
        java.util.Properties viaIngress = hostVerifyingClient("kafka.outside.test:9443", ca);
        java.util.Properties viaGateway = hostVerifyingClient("gw.outside.test:9443", ca);
        assertThat(advertisedBrokers(viaIngress)).isEqualTo(Map.of(0, "broker-0.outside.test:9443", 1, "broker-1.outside.test:9443"));
        assertThat(advertisedBrokers(viaGateway)).isEqualTo(Map.of(0, "b0.gw.outside.test:9443", 1, "b1.gw.outside.test:9443"));

        java.util.Properties producerSettings = AcknowledgedRecords.durableProducer(viaIngress);
        producerSettings.put("delivery.timeout.ms", "60000"); // a record sent to the wrong broker would fail, not retry for ten minutes
        Map<Long, AcknowledgedRecords.Ack> acked = produceToOutside(producerSettings, 1_000, "the ingress");
        // the first 1,000 records of the topic came through the node ports: read all 2,000, check the second 1,000
        assertThat(AcknowledgedRecords.verify(viaGateway, "outside", 2, acked))
                .as("records produced through the ingress, each read back at its offset through the gateway").isEqualTo(1_000);
        assertThat(ingressController.routed()).as("each host name's connections reached its own broker").containsAllEntriesOf(Map.of(
                "broker-0.outside.test", java.util.Set.of("outside-0"), "broker-1.outside.test", java.util.Set.of("outside-1")));
        assertThat(gateway.routed()).containsAllEntriesOf(Map.of(
                "b0.gw.outside.test", java.util.Set.of("outside-0"), "b1.gw.outside.test", java.util.Set.of("outside-1")));
        assertThat(ingressController.routed()).containsKey("kafka.outside.test");
        assertThat(gateway.routed()).containsKey("gw.outside.test");
        System.out.printf("external access: through the ingress controller (TLS passed through by host name) %s and the gateway %s;"
                + " 1,000 records produced through one and each read back through the other%n", ingressController.routed(), gateway.routed());
    }

    /** Records {@code first} to {@code first} + 999 to topic "outside" (two partitions), each acknowledged without error. */
    static Map<Long, AcknowledgedRecords.Ack> produceToOutside(java.util.Properties settings, long first, String through) {
        Map<Long, AcknowledgedRecords.Ack> acked = new ConcurrentHashMap<>();
        List<Exception> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(settings, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (long seq = first; seq < first + 1_000; seq++) {
                long s = seq;
                producer.send(new ProducerRecord<>("outside", (int) (seq % 2), null, AcknowledgedRecords.value(seq)), (md, e) -> {
                    if (e == null) {
                        acked.put(s, new AcknowledgedRecords.Ack(md.partition(), md.offset(), s));
                    } else {
                        errors.add(e);
                    }
                });
            }
            producer.flush();
        }
        assertThat(errors).as("producer errors through " + through).isEmpty();
        assertThat(acked).hasSize(1_000);
        return acked;
    }

    /** A TLS client trusting {@code ca}, checking the brokers' certificate against the host names it connects to. */
    static java.util.Properties hostVerifyingClient(String bootstrap, String ca) {
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("security.protocol", "SSL");
        p.put("ssl.truststore.type", "PEM");
        p.put("ssl.truststore.certificates", ca);
        p.put("ssl.endpoint.identification.algorithm", "https");
        return p;
    }

    static String listenerBootstrap(String cluster, String listener) {
        BrokerCluster c = cluster(cluster);
        if (c == null || c.getStatus() == null || c.getStatus().listeners == null) {
            return null;
        }
        return c.getStatus().listeners.stream().filter(l -> listener.equals(l.name)).map(l -> l.bootstrapServers).findFirst().orElse(null);
    }

    /** Each broker's address as Kafka clients bootstrapping from {@code bootstrap} are told it, by broker id. */
    static Map<Integer, String> advertisedBrokers(String bootstrap) throws Exception {
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", bootstrap);
        return advertisedBrokers(p);
    }

    static Map<Integer, String> advertisedBrokers(java.util.Properties client) throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(client)) {
            Map<Integer, String> out = new java.util.TreeMap<>();
            admin.describeCluster().nodes().get(1, java.util.concurrent.TimeUnit.MINUTES).forEach(n -> out.put(n.id(), n.host() + ":" + n.port()));
            return out;
        }
    }

    /**
     * Issue 18, external access: a cluster with a nodeport, a loadbalancer, an ingress and a tlsroute listener. The
     * Services, Ingresses and TLSRoutes are real and the API server allocates the node ports; stand-ins play what this
     * machine lacks: {@link io.capstan.e2e.k8s.kubelet.ServiceProxy} kube-proxy and the load-balancer controller,
     * {@link io.capstan.e2e.k8s.kubelet.SniRouter} an ingress controller passing TLS through and a Gateway API
     * implementation (Gateway API's real CRDs installed), each routing by the TLS server name only as the Ingresses and
     * TLSRoutes the operator wrote say. A client outside the pods' network, knowing only the bootstrap address
     * status.listeners gives, is told each broker's own node port, load-balancer address or host name, and produces
     * through one listener and reads every record back at its offset through another; TLS clients check the brokers'
     * certificate against the host names, and each host name's connections reached its own broker's pod.
     */
    @Test
    @Order(17)
    void clientsOutsideTheClusterProduceAndConsumeThroughNodePortsLoadBalancersAnIngressAndAGateway() throws Exception {
        installGatewayApi();
        java.net.InetSocketAddress ingressAddress = new java.net.InetSocketAddress("127.0.251.1", 9443);
        java.net.InetSocketAddress gatewayAddress = new java.net.InetSocketAddress("127.0.251.2", 9443);
        try (io.capstan.e2e.k8s.kubelet.ServiceProxy proxy = new io.capstan.e2e.k8s.kubelet.ServiceProxy(client).start();
             io.capstan.e2e.k8s.kubelet.SniRouter ingressController = io.capstan.e2e.k8s.kubelet.SniRouter.ingressController(client,
                     "capstan-test", ingressAddress).start();
             io.capstan.e2e.k8s.kubelet.SniRouter gateway = io.capstan.e2e.k8s.kubelet.SniRouter.gateway(client, NS, "edge", gatewayAddress).start()) {
            for (String host : List.of("kafka.outside.test", "broker-0.outside.test", "broker-1.outside.test")) {
                dns.put(host, "127.0.251.1"); // what a DNS record for the ingress controller would say
            }
            for (String host : List.of("gw.outside.test", "b0.gw.outside.test", "b1.gw.outside.test")) {
                dns.put(host, "127.0.251.2");
            }
            localVolumes("pv-outside-", 2);
            BrokerCluster outside = new BrokerCluster();
            outside.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("outside").withNamespace(NS).build());
            outside.setSpec(new BrokerClusterSpec());
            outside.getSpec().replicas = 2;
            outside.getSpec().version = "0.1.0";
            BrokerClusterSpec.ListenerSpec ingress = passthroughListener("ing", 9096, "ingress", "kafka.outside.test", "broker-{id}.outside.test");
            ingress.ingressClassName = "capstan-test";
            BrokerClusterSpec.ListenerSpec routed = passthroughListener("gw", 9097, "tlsroute", "gw.outside.test", "b{id}.gw.outside.test");
            routed.gateway = new BrokerClusterSpec.GatewayRef();
            routed.gateway.name = "edge";
            routed.gateway.sectionName = "kafka";
            BrokerClusterSpec.ListenerSpec nodePortTls = listener("external", 9094, "nodeport");
            nodePortTls.tls = true; // the certificate must then name the nodes' addresses
            outside.getSpec().listeners = new ArrayList<>(List.of(listener("plain", 9092, "internal"),
                    nodePortTls, listener("lb", 9095, "loadbalancer"), ingress, routed));
            client.resource(outside).create();
            await("BrokerCluster outside is Ready with every external bootstrap address").atMost(Duration.ofMinutes(5))
                    .pollInterval(Duration.ofSeconds(1))
                    .until(() -> ready(cluster("outside")) && listenerBootstrap("outside", "external") != null
                            && listenerBootstrap("outside", "lb") != null && listenerBootstrap("outside", "gw") != null);
            String viaNodePorts = listenerBootstrap("outside", "external");
            String viaBalancers = listenerBootstrap("outside", "lb");
            int bootstrapNodePort = client.services().inNamespace(NS).withName("outside-external-bootstrap").get().getSpec().getPorts().get(0).getNodePort();
            assertThat(viaNodePorts).isEqualTo("127.0.0.1:" + bootstrapNodePort);
            assertThat(viaBalancers).matches("127\\.0\\.250\\.\\d+:9095");

            Map<Integer, String> nodePorts = new java.util.TreeMap<>();
            Map<Integer, String> balancers = new java.util.TreeMap<>();
            for (int i = 0; i < 2; i++) {
                var perBroker = client.services().inNamespace(NS).withName("outside-" + i + "-external").get();
                assertThat(perBroker.getSpec().getType()).isEqualTo("NodePort");
                nodePorts.put(i, "127.0.0.1:" + perBroker.getSpec().getPorts().get(0).getNodePort());
                balancers.put(i, client.services().inNamespace(NS).withName("outside-" + i + "-lb").get()
                        .getStatus().getLoadBalancer().getIngress().get(0).getIp() + ":9095");
            }
            // TLS through the node ports, the client checking the certificate against the node's address it connects to:
            // the first certificate is issued before the pods have a node, the next one (reloaded, no restart) names it
            java.util.Properties viaNodePortsTls = hostVerifyingClient(viaNodePorts, secretFile("outside-cluster-ca-cert", "ca.crt"));
            await("brokers as a TLS client bootstrapping from the node port sees them, the certificate naming the node")
                    .atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(2)).ignoreExceptions()
                    .untilAsserted(() -> assertThat(advertisedBrokers(viaNodePortsTls)).isEqualTo(nodePorts));
            assertThat(advertisedBrokers(viaBalancers)).as("brokers as a client bootstrapping from the load balancer sees them")
                    .isEqualTo(balancers);
            assertThat(new java.util.HashSet<>(nodePorts.values())).as("one node port per broker").hasSize(2);

            createTopic(viaBalancers, "outside", 2, (short) 2);
            Map<Long, AcknowledgedRecords.Ack> acked = produceToOutside(AcknowledgedRecords.durableProducer(viaNodePortsTls), 0, "the node ports");
            assertThat(AcknowledgedRecords.verify(viaBalancers, "outside", 2, acked))
                    .as("every record read back at its offset through the load balancers").isEqualTo(1_000);
            System.out.printf("external access: bootstrap %s (node port, TLS) and %s (load balancer); brokers advertised %s and %s;"
                    + " 1,000 records produced through one and each read back through the other%n", viaNodePorts, viaBalancers, nodePorts, balancers);

            passthroughRoundTrip(ingressController, gateway);

            client.resources(BrokerCluster.class).inNamespace(NS).withName("outside").delete();
            await("the cluster's external Services, Ingresses and TLSRoutes are gone with it").atMost(Duration.ofMinutes(2))
                    .pollInterval(Duration.ofSeconds(1))
                    .until(() -> client.services().inNamespace(NS).withLabel("capstan.io/external-listener").list().getItems().isEmpty()
                            && client.network().v1().ingresses().inNamespace(NS).list().getItems().isEmpty()
                            && client.genericKubernetesResources("gateway.networking.k8s.io/v1", "TLSRoute").inNamespace(NS).list().getItems().isEmpty());
        }
    }

    /**
     * Issue 18, node loss: a 3-broker cluster on local volumes (PersistentVolumes pinned to their node, a
     * WaitForFirstConsumer class) with spec.nodeLoss. Under an acks=all load, the node of one broker dies: its pod
     * runner SIGKILLs its processes and stops reporting, and the test does what the node lifecycle controller (not run
     * here) would: node Ready Unknown, tainted unreachable, its pods not ready. The operator releases the broker's
     * local claim and deletes its pod; the StatefulSet starts it on another node with a new, empty volume, the broker
     * copies its shards back until it is in every ISR again, and every acknowledged record is read back at its offset.
     */
    @Test
    @Order(18)
    void aBrokerOnALostNodeStartsElsewhereOnANewVolumeAndCatchesUpWithNothingAcknowledgedLost() throws Exception {
        assertThat(otherNodes).as("the three-node test ran first").hasSize(2);
        client.storage().v1().storageClasses().resource(new io.fabric8.kubernetes.api.model.storage.StorageClassBuilder()
                .withNewMetadata().withName("local").endMetadata().withProvisioner("kubernetes.io/no-provisioner")
                .withVolumeBindingMode("WaitForFirstConsumer").build()).create();
        List<String> nodes = List.of(NODE, "capstan-node-zone-b", "capstan-node-zone-c");
        for (String node : nodes) {
            localVolumes("pv-local-" + node + "-", 2, "local", node);
        }
        BrokerCluster sturdy = new BrokerCluster();
        sturdy.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("sturdy").withNamespace(NS).build());
        sturdy.setSpec(new BrokerClusterSpec());
        sturdy.getSpec().replicas = 3;
        sturdy.getSpec().version = "0.1.0";
        sturdy.getSpec().rack = new BrokerClusterSpec.Rack();
        sturdy.getSpec().rack.topologyKey = "topology.kubernetes.io/zone";
        sturdy.getSpec().storage.storageClassName = "local";
        sturdy.getSpec().nodeLoss = new BrokerClusterSpec.NodeLoss();
        sturdy.getSpec().nodeLoss.after = "10s";
        sturdy.getSpec().nodeLoss.releaseLocalVolumes = true;
        client.resource(sturdy).create();
        await("BrokerCluster sturdy is Ready").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1)).until(() -> ready(cluster("sturdy")));
        Map<String, String> nodeOfPod = new java.util.TreeMap<>();
        brokerPods("sturdy").forEach(p -> nodeOfPod.put(p.getMetadata().getName(), p.getSpec().getNodeName()));
        assertThat(new java.util.TreeSet<>(nodeOfPod.values())).as("one broker per node: " + nodeOfPod).hasSize(3);
        String lostNode = "capstan-node-zone-b";
        String lostPod = nodeOfPod.entrySet().stream().filter(e -> e.getValue().equals(lostNode)).findFirst().orElseThrow().getKey();
        int lostBroker = Integer.parseInt(lostPod.substring("sturdy-".length()));
        String lostVolume = client.persistentVolumeClaims().inNamespace(NS).withName("data-" + lostPod).get().getSpec().getVolumeName();

        String bootstrap = "sturdy." + NS + ".svc:9092";
        createTopic(bootstrap, "sturdy", 3, (short) 3, Map.of("min.insync.replicas", "2"));
        Map<Long, AcknowledgedRecords.Ack> acked = new ConcurrentHashMap<>();
        List<Exception> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
        Thread load = new Thread(() -> {
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(AcknowledgedRecords.durableProducer(bootstrap),
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                long start = System.nanoTime();
                while (running.get()) {
                    long seq = sent.getAndIncrement();
                    java.util.concurrent.locks.LockSupport.parkNanos(start + seq * 5_000_000L - System.nanoTime()); // 200/s: load shaping
                    producer.send(new ProducerRecord<>("sturdy", (int) (seq % 3), null, AcknowledgedRecords.value(seq)), (md, e) -> {
                        if (e == null) {
                            acked.put(seq, new AcknowledgedRecords.Ack(md.partition(), md.offset(), seq));
                        } else {
                            errors.add(e);
                        }
                    });
                }
                producer.flush();
            }
        }, "sturdy-load");
        load.start();
        await().atMost(Duration.ofMinutes(1)).until(() -> acked.size() >= 1_000);

        PodRunner dying = otherNodes.get(0);
        long lostAt = System.nanoTime();
        dying.loseNode();
        PodRunner.markNodeLost(client, lostNode);
        await("broker " + lostBroker + " runs again on another node, on a new volume").atMost(Duration.ofMinutes(5))
                .pollInterval(Duration.ofSeconds(1)).until(() -> {
                    Pod p = client.pods().inNamespace(NS).withName(lostPod).get();
                    var claim = client.persistentVolumeClaims().inNamespace(NS).withName("data-" + lostPod).get();
                    return p != null && podReady(p) && !lostNode.equals(p.getSpec().getNodeName()) && claim != null
                            && claim.getSpec().getVolumeName() != null && !lostVolume.equals(claim.getSpec().getVolumeName());
                });
        long backMs = (System.nanoTime() - lostAt) / 1_000_000;
        Pod replaced = client.pods().inNamespace(NS).withName(lostPod).get();
        String newVolume = client.persistentVolumeClaims().inNamespace(NS).withName("data-" + lostPod).get().getSpec().getVolumeName();
        assertThat(client.persistentVolumes().withName(newVolume).get().getSpec().getNodeAffinity().getRequired().getNodeSelectorTerms()
                .get(0).getMatchExpressions().get(0).getValues()).containsExactly(replaced.getSpec().getNodeName());
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            await("broker " + lostBroker + " back in every ISR").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                    .ignoreExceptions().until(() -> admin.describeTopics(List.of("sturdy")).allTopicNames().get().get("sturdy").partitions().stream()
                            .allMatch(p -> p.isr().size() == 3));
        }
        long inSyncMs = (System.nanoTime() - lostAt) / 1_000_000;
        running.set(false);
        load.join();
        assertThat(errors).as("producer errors").isEmpty();
        assertThat(AcknowledgedRecords.verify(bootstrap, "sturdy", 3, acked)).as("every acknowledged record at its offset")
                .isEqualTo(acked.size());
        assertThat(acked).hasSize((int) sent.get());
        BrokerCluster after = cluster("sturdy");
        assertThat(Conditions.get(after.getStatus().conditions, Conditions.BROKER_ON_LOST_NODE)).isNull();
        System.out.printf("node loss: %s on %s (volume %s) lost; running again on %s (volume %s) after %d ms, in every ISR after %d ms;"
                + " %d records acknowledged under the load, each read back, 0 producer errors%n", lostPod, lostNode, lostVolume,
                replaced.getSpec().getNodeName(), newVolume, backMs, inSyncMs, acked.size());
    }
}
