package io.capstan.e2e.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.reconcile.BrokerClusterReconciler;
import io.capstan.operator.reconcile.ResourceWriter;
import io.capstan.operator.rollout.RollingRestart;
import io.capstan.operator.shards.ClusterMetadata;
import io.capstan.e2e.k8s.kubelet.PodRunner;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * With the controller manager and the scheduler: a BrokerCluster's StatefulSet gets its pods, their volume claims bind
 * to PersistentVolumes, the scheduler places them on a registered node, and deleting the cluster lets the garbage
 * collector remove everything it owned. (No pod runner here: the pods are placed, not run;
 * BrokerPodsTest runs them.)
 */
@org.junit.jupiter.api.Tag(ControlPlane.TAG)
class SchedulingTest {
    static ControlPlane controlPlane;
    static KubernetesClient client;

    @BeforeAll
    static void start() throws Exception {
        ControlPlane.assumeBuilt(true);
        controlPlane = ControlPlane.start(Path.of("target", "k8s-sched-" + System.nanoTime()).toAbsolutePath());
        controlPlane.startScheduling();
        client = controlPlane.adminClient();
        ControlPlane.installCrd(client, "shop");
        PodRunner.registerNode(client, "capstan-node-1", Map.of("topology.kubernetes.io/zone", "zone-a"));
        PodRunner.provisionVolumes(client, controlPlane.work().resolve("volumes"), 3, "10Gi");
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (controlPlane != null) {
            controlPlane.close();
        }
    }

    @Test
    void brokerPodsAreCreatedBoundToVolumesScheduledAndCollectedWithTheirCluster() throws Exception {
        BrokerCluster cluster = Serialization.unmarshal(Files.readString(Path.of("..", "manifests", "examples", "minimal.yaml")), BrokerCluster.class);
        cluster.getMetadata().setNamespace("shop");
        client.resource(cluster).create();
        BrokerClusterReconciler reconciler = new BrokerClusterReconciler(client, ResourceWriter.serverSideApply(client),
                pod -> RollingRestart.Safety.SAFE, ClusterMetadata.kubernetes(client, new io.capstan.operator.shards.ClusterControllers(client, 1000)), null, System::currentTimeMillis);
        reconciler.reconcile(client.resources(BrokerCluster.class).inNamespace("shop").withName("minimal").get());

        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            var pods = client.pods().inNamespace("shop").list().getItems();
            assertThat(pods).extracting(p -> p.getMetadata().getName()).containsExactlyInAnyOrder("minimal-0", "minimal-1", "minimal-2");
            assertThat(pods).extracting(p -> p.getMetadata().getName() + " on " + p.getSpec().getNodeName())
                    .containsExactlyInAnyOrder("minimal-0 on capstan-node-1", "minimal-1 on capstan-node-1", "minimal-2 on capstan-node-1");
        });
        assertThat(client.persistentVolumeClaims().inNamespace("shop").list().getItems())
                .allSatisfy(pvc -> assertThat(pvc.getStatus().getPhase()).isEqualTo("Bound"));

        client.resources(BrokerCluster.class).inNamespace("shop").withName("minimal").delete();
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            assertThat(client.apps().statefulSets().inNamespace("shop").withName("minimal").get()).isNull();
            assertThat(client.services().inNamespace("shop").list().getItems()).isEmpty();
            assertThat(client.configMaps().inNamespace("shop").withName("minimal-config").get()).isNull();
            assertThat(client.policy().v1().podDisruptionBudget().inNamespace("shop").withName("minimal").get()).isNull();
            assertThat(client.rbac().roles().inNamespace("shop").withName("minimal-broker").get()).isNull();
        });
    }
}
