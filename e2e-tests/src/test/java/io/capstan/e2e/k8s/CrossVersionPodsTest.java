package io.capstan.e2e.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Helm;
import io.capstan.e2e.AcknowledgedRecords;
import io.capstan.e2e.ProduceLoad;
import io.capstan.e2e.k8s.kubelet.ClusterDns;
import io.capstan.e2e.k8s.kubelet.Images;
import io.capstan.e2e.k8s.kubelet.PodRunner;
import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterSpec;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 18 item 6 on the real control plane: a BrokerCluster of the previous release (image N-1, built from its git tag
 * by e2e-tests/previous/build.sh) under an acks=all load, upgraded to this checkout (N) by editing spec.version with
 * the cluster version pinned at 1, rolled back to N-1 the same way (allowed: nothing was written that N-1 cannot read),
 * upgraded again, and then the pin lifted so the operator raises the cluster version and restarts the brokers onto it.
 * The operator is this checkout's throughout, as it is when users upgrade the operator first. Checked: every rollout
 * replaces one broker at a time (at most one unavailable, sampled every 100 ms), each ends with every pod on the
 * version asked for and the cluster Ready, the producer sees no error, and every acknowledged record is read back at
 * its offset. Not in CI (it needs the previous release's build): e2e-tests/run-cross-version --pods.
 */
@Tag(ControlPlane.TAG)
@Tag("cross-version-pods")
class CrossVersionPodsTest {
    private static final String PREVIOUS = System.getProperty("capstan.previous.dir", "");
    private static final String OLD = "0.0.1";
    private static final String NEW = "0.2.0";

    @BeforeAll
    static void start() throws Exception {
        if (PREVIOUS.isEmpty() || !Files.exists(Path.of(PREVIOUS, "bin", "capstan"))) {
            throw new IllegalStateException("capstan.previous.dir must name the previous release's build (e2e-tests/run-cross-version --pods"
                    + " builds it), got '" + PREVIOUS + "'");
        }
        ControlPlane.assumeBuilt(true);
        String hosts = System.getProperty("jdk.net.hosts.file");
        org.junit.jupiter.api.Assumptions.assumeTrue(hosts != null, "runs in the cross-version-pods execution (-Djdk.net.hosts.file)");
        // the scenario helpers of BrokerPodsTest (pods, readiness, unavailability) work on its static client
        BrokerPodsTest.controlPlane = ControlPlane.start(Path.of("target", "k8s-versions-" + System.nanoTime()).toAbsolutePath());
        BrokerPodsTest.controlPlane.startScheduling();
        BrokerPodsTest.client = BrokerPodsTest.controlPlane.adminClient();
        PodRunner.registerNode(BrokerPodsTest.client, BrokerPodsTest.NODE, Map.of("topology.kubernetes.io/zone", "zone-a"));
        PodRunner.provisionVolumes(BrokerPodsTest.client, BrokerPodsTest.controlPlane.work().resolve("volumes"), 4, "10Gi");
        Images images = Images.fromCheckout(Path.of("..").toAbsolutePath().normalize(), List.of("0.1.0", NEW))
                .withBroker(OLD, Path.of(PREVIOUS).toAbsolutePath());
        BrokerPodsTest.dns = new ClusterDns(Path.of(hosts));
        BrokerPodsTest.runner = new PodRunner(BrokerPodsTest.client, BrokerPodsTest.NODE, BrokerPodsTest.controlPlane.work(), images,
                BrokerPodsTest.dns, BrokerPodsTest.controlPlane.apiServerUrl(), BrokerPodsTest.controlPlane.caCertificate());
        BrokerPodsTest.runner.start();
        new Helm(Path.of("..", "helm", "capstan-operator")).install().withName("capstan").withNamespace("capstan-system")
                .createNamespace().withKubeConfig(BrokerPodsTest.controlPlane.adminKubeconfig()).call();
        await("the operator pod is ready").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                .until(() -> BrokerPodsTest.podReady(BrokerPodsTest.operatorPod()));
        BrokerPodsTest.client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(BrokerPodsTest.NS).endMetadata().build())
                .create();
    }

    @AfterAll
    static void stop() {
        BrokerPodsTest.stop();
    }

    @Test
    void theRollingUpgradeFromThePreviousReleaseAndItsRollbackLoseNothingAndTheApplicationSeesNoError() throws Exception {
        BrokerCluster legacy = new BrokerCluster();
        legacy.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("legacy").withNamespace(BrokerPodsTest.NS).build());
        legacy.setSpec(new BrokerClusterSpec());
        legacy.getSpec().replicas = 3;
        legacy.getSpec().version = OLD;
        legacy.getSpec().clusterVersion = "1"; // pinned while the upgrade may still be rolled back
        BrokerPodsTest.client.resource(legacy).create();
        awaitEveryBrokerOn(OLD);
        String bootstrap = BrokerPodsTest.bootstrap("legacy", 3);
        assertRunningBuild(bootstrap, OLD);
        BrokerPodsTest.createTopic(bootstrap, "versions", 3, (short) 3, Map.of("min.insync.replicas", "2"));
        ProduceLoad load = new ProduceLoad(bootstrap, "versions", 3, 300, Duration.ofSeconds(30));
        try (load; BrokerPodsTest.Unavailability unavailable = new BrokerPodsTest.Unavailability("legacy", 3)) {
            load.awaitMoreAcknowledged(300);
            for (String version : List.of(NEW, OLD, NEW)) {
                long started = System.nanoTime();
                BrokerPodsTest.edit("legacy", c -> c.getSpec().version = version);
                awaitEveryBrokerOn(version);
                assertRunningBuild(bootstrap, version);
                System.out.printf("rolled %s to %s under load in %d ms; %d records acknowledged so far%n", "legacy", version,
                        (System.nanoTime() - started) / 1_000_000, load.acked.size());
                load.awaitMoreAcknowledged(300);
            }
            assertThat(BrokerPodsTest.cluster("legacy").getStatus().clusterVersion.finalized).as("pinned at 1 through the rollback").isEqualTo(1);
            BrokerPodsTest.edit("legacy", c -> c.getSpec().clusterVersion = "auto");
            await("the operator raises the cluster version once every broker supports it, and restarts the brokers onto it")
                    .atMost(Duration.ofMinutes(6)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().until(() -> {
                        BrokerCluster c = BrokerPodsTest.cluster("legacy");
                        String level = String.valueOf(c.getStatus().clusterVersion.finalized);
                        return c.getStatus().clusterVersion.finalized >= 2 && BrokerPodsTest.ready(c)
                                && BrokerPodsTest.brokerPods("legacy").stream().allMatch(p -> BrokerPodsTest.podReady(p)
                                        && level.equals(p.getMetadata().getAnnotations().get(io.capstan.operator.resources.DesiredResources.CLUSTER_VERSION)));
                    });
            load.awaitMoreAcknowledged(300);
            assertThat(unavailable.max.get()).as("brokers unavailable at once in any rollout").isEqualTo(1);
        }
        assertThat(load.errors).as("errors the application saw").isEmpty();
        long verified = AcknowledgedRecords.verify(bootstrap, "versions", 3, load.acked);
        System.out.printf("upgrade %s -> %s -> %s -> %s and the cluster version raise under 300 records/s acks=all: %d acknowledged, all read"
                + " back at their offsets, 0 errors%n", OLD, NEW, OLD, NEW, verified);
        assertThat(verified).isEqualTo((long) load.acked.size());
    }

    /**
     * The brokers answering are really the build the version names, not just pods with its image name: the previous
     * release predates cluster versions (decision 0028), so only this checkout's brokers announce the feature.
     */
    private static void assertRunningBuild(String bootstrap, String version) throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            var supported = admin.describeFeatures().featureMetadata().get(1, java.util.concurrent.TimeUnit.MINUTES).supportedFeatures();
            assertThat(supported.containsKey(io.capstan.cluster.version.ClusterVersion.FEATURE))
                    .as("a broker of %s announces %s: %s", version, io.capstan.cluster.version.ClusterVersion.FEATURE, supported)
                    .isEqualTo(version.equals(NEW));
        }
    }

    private static void awaitEveryBrokerOn(String version) {
        await("every broker runs " + version + " and the cluster is Ready").atMost(Duration.ofMinutes(6)).pollInterval(Duration.ofSeconds(1))
                .ignoreExceptions().until(() -> BrokerPodsTest.imagesByPod("legacy").size() == 3
                        && BrokerPodsTest.imagesByPod("legacy").values().stream().allMatch(("capstan/broker:" + version)::equals)
                        && BrokerPodsTest.brokerPods("legacy").stream().allMatch(BrokerPodsTest::podReady)
                        && BrokerPodsTest.ready(BrokerPodsTest.cluster("legacy")) && version.equals(BrokerPodsTest.cluster("legacy").getStatus().currentVersion));
    }
}
