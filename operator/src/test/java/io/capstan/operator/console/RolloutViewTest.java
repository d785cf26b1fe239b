package io.capstan.operator.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.console.Rollout;
import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.api.BrokerClusterStatus;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

class RolloutViewTest {
    private static BrokerCluster cluster(int steps) {
        BrokerCluster c = new BrokerCluster();
        c.setMetadata(new ObjectMetaBuilder().withNamespace("shop").withName("orders").withGeneration(7L).build());
        c.setSpec(new BrokerClusterSpec());
        c.getSpec().version = "0.3.0";
        c.getSpec().replicas = 3;
        c.getSpec().rollout.canary = new BrokerClusterSpec.Canary();
        for (int i = 0; i < steps; i++) {
            c.getSpec().rollout.canary.steps.add(new BrokerClusterSpec.Step());
        }
        return c;
    }

    @Test
    void aPausedCanaryIsShownWithItsStepCountedFromOneAndItsConditions() {
        BrokerCluster c = cluster(2);
        BrokerClusterStatus status = new BrokerClusterStatus();
        status.observedGeneration = 6L;
        status.currentVersion = "0.2.0";
        status.targetVersion = "0.3.0";
        status.replicas = 3;
        status.readyReplicas = 3;
        status.updatedReplicas = 1;
        status.rollout = new BrokerClusterStatus.RolloutStatus();
        status.rollout.phase = BrokerClusterStatus.Phase.Paused;
        status.rollout.step = 1;
        status.rollout.message = "waiting for approval: set spec.rollout.approve to 0.3.0";
        status.clusterVersion = new BrokerClusterStatus.ClusterVersion();
        status.clusterVersion.finalized = 3;
        status.conditions = List.of(new ConditionBuilder().withType("Ready").withStatus("True").withReason("AllBrokersReady")
                .withMessage("3 of 3").withLastTransitionTime("2026-12-06T07:00:00Z").build());
        c.setStatus(status);

        Rollout r = RolloutView.of(c);
        assertThat(r).isEqualTo(new Rollout("shop", "orders", 7, 6, "0.3.0", "0.2.0", 3, 3, 1, "Paused", 2, 2,
                "waiting for approval: set spec.rollout.approve to 0.3.0", 3,
                List.of(new Rollout.Condition("Ready", "True", "AllBrokersReady", "3 of 3", "2026-12-06T07:00:00Z"))));
    }

    @Test
    void aCompletedCanaryHasNoCurrentStepAndANewClusterWithoutStatusShowsTheSpec() {
        BrokerCluster done = cluster(2);
        done.setStatus(new BrokerClusterStatus());
        done.getStatus().rollout = new BrokerClusterStatus.RolloutStatus();
        done.getStatus().rollout.phase = BrokerClusterStatus.Phase.Complete;
        done.getStatus().rollout.step = 2;
        assertThat(RolloutView.of(done).step()).as("past the last step").isNull();
        assertThat(RolloutView.of(done).phase()).isEqualTo("Complete");

        Rollout fresh = RolloutView.of(cluster(0));
        assertThat(fresh.targetVersion()).isEqualTo("0.3.0");
        assertThat(fresh.currentVersion()).isNull();
        assertThat(fresh.replicas()).isEqualTo(3);
        assertThat(fresh.readyReplicas()).isZero();
        assertThat(fresh.phase()).isNull();
        assertThat(fresh.step()).isNull();
        assertThat(fresh.conditions()).isEmpty();
    }

    @Test
    void onlyPathsNamingAClusterByKubernetesNamesAreRouted() {
        assertThat(ClusterPath.parse("/clusters/shop/orders/api/snapshot")).isEqualTo(new ClusterPath("shop", "orders", "/api/snapshot"));
        assertThat(ClusterPath.parse("/clusters/shop/orders/")).isEqualTo(new ClusterPath("shop", "orders", "/"));
        assertThat(ClusterPath.parse("/clusters/shop/orders")).isEqualTo(new ClusterPath("shop", "orders", ""));
        assertThat(ClusterPath.parse("/clusters/shop/orders/x").key()).isEqualTo(new ClusterPath("shop", "orders", ""));
        for (String bad : List.of("/", "/clusters/", "/clusters/shop", "/clusters/Shop/orders/", "/clusters/shop/or%2Fders/",
                "/clusters/../orders/", "/other/shop/orders/", "/clusters/shop/-orders/")) {
            assertThat(ClusterPath.parse(bad)).as(bad).isNull();
        }
    }
}
