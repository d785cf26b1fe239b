package io.capstan.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.cluster.metadata.ShardState;
import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.api.BrokerClusterStatus;
import io.capstan.operator.rollout.RollingRestart;
import io.capstan.operator.shards.ScalePlan;
import io.capstan.operator.storage.VolumePlan;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The status a pass reports, from what it observed and decided alone: each outcome the reconciler can reach. */
class StatusFunctionTest {
    private static final ScalePlan.Decision STEADY = new ScalePlan.Decision(3, Map.of(), 3, "", null);

    @Test
    void everyBrokerReadyOnTheTemplateIsStableAndRecordsTheSpec() {
        BrokerCluster cluster = cluster("1.2");
        BrokerClusterStatus status = settle(cluster, sts(3, 3, 3), STEADY, new RollingRestart.Done(3), false);
        assertCondition(status, Conditions.READY, "True", "AllBrokersReady");
        assertCondition(status, Conditions.PROGRESSING, "False", "Stable");
        assertCondition(status, Conditions.DEGRADED, "False", "SpecValid");
        assertThat(status.currentVersion).isEqualTo("1.2");
        assertThat(status.lastStableSpec).isSameAs(cluster.getSpec());
        assertThat(status.rollout.phase).isEqualTo(BrokerClusterStatus.Phase.Complete);
        assertThat(List.of(status.replicas, status.readyReplicas, status.updatedReplicas)).containsExactly(3, 3, 3);
        assertThat(status.observedGeneration).isEqualTo(7);
        assertThat(status.shards.balancedFor).isEqualTo(3);
    }

    @Test
    void aRestartInProgressNamesTheBrokerAndRecordsNothingAsStable() {
        BrokerCluster cluster = cluster("1.3");
        BrokerClusterStatus status = settle(cluster, sts(3, 3, 1), STEADY, new RollingRestart.Restart(2, 1), false);
        assertCondition(status, Conditions.PROGRESSING, "True", "RollingUpdate");
        assertThat(Conditions.get(status.conditions, Conditions.PROGRESSING).getMessage()).contains("restarting broker 2", "1 of 3 updated");
        assertThat(status.lastStableSpec).isNull();
        assertThat(status.currentVersion).isNull();
        assertThat(status.rollout.phase).isEqualTo(BrokerClusterStatus.Phase.Promoting);
    }

    @Test
    void brokersNotYetReadyAreWaitedFor() {
        BrokerClusterStatus status = settle(cluster("1.2"), sts(3, 1, 3), STEADY, new RollingRestart.Done(3), false);
        assertCondition(status, Conditions.READY, "False", "BrokersStarting");
        assertThat(Conditions.get(status.conditions, Conditions.READY).getMessage()).isEqualTo("1 of 3 brokers ready");
        assertCondition(status, Conditions.PROGRESSING, "True", "WaitingForBrokers");
        assertThat(Conditions.get(status.conditions, Conditions.PROGRESSING).getMessage()).contains("waiting for 2 broker(s)");
        assertThat(status.lastStableSpec).isNull();
    }

    @Test
    void beforeTheStatefulSetExistsNothingIsReady() {
        BrokerClusterStatus status = settle(cluster("1.2"), null, STEADY, new RollingRestart.Done(0), false);
        assertThat(List.of(status.replicas, status.readyReplicas, status.updatedReplicas)).containsExactly(0, 0, 0);
        assertCondition(status, Conditions.READY, "False", "BrokersStarting");
    }

    @Test
    void aRefusedScaleInIsDegradedWithItsReason() {
        ScalePlan.Decision refused = new ScalePlan.Decision(3, Map.of(), 3, "", "topic t has replication factor 3: keep 3 brokers");
        BrokerClusterStatus status = settle(cluster("1.2"), sts(3, 3, 3), refused, new RollingRestart.Done(3), false);
        assertCondition(status, Conditions.DEGRADED, "True", "ScaleInRefused");
        assertThat(Conditions.get(status.conditions, Conditions.DEGRADED).getMessage()).contains("replication factor 3");
    }

    @Test
    void aRefusedStorageChangeIsDegradedNamingTheFieldAndTheVolumesAreReported() {
        VolumePlan.Decision shrink = VolumePlan.decide("5Gi", null, new VolumePlan.Template("10Gi", null),
                List.of(new VolumePlan.Claim("data-c-0", "standard", "10Gi", "10Gi", List.of())));
        BrokerClusterStatus status = settle(cluster("1.2"), sts(3, 3, 3), STEADY, shrink, new RollingRestart.Done(3), false);
        assertCondition(status, Conditions.DEGRADED, "True", "StorageChangeRefused");
        assertThat(Conditions.get(status.conditions, Conditions.DEGRADED).getMessage())
                .startsWith("spec.storage.size: is 5Gi, smaller than the brokers' volumes (10Gi)").endsWith("(the volumes are left as they are)");
        assertThat(List.of(status.storage.phase, status.storage.size)).containsExactly("Refused", "5Gi");
        assertCondition(status, Conditions.READY, "True", "AllBrokersReady");
    }

    @Test
    void aScaleInRefusalIsReportedBeforeAStorageRefusal() {
        ScalePlan.Decision refused = new ScalePlan.Decision(3, Map.of(), 3, "", "topic t has replication factor 3: keep 3 brokers");
        VolumePlan.Decision shrink = VolumePlan.decide("5Gi", null, new VolumePlan.Template("10Gi", null), List.of());
        BrokerClusterStatus status = settle(cluster("1.2"), sts(3, 3, 3), refused, shrink, new RollingRestart.Done(3), false);
        assertCondition(status, Conditions.DEGRADED, "True", "ScaleInRefused");
        assertThat(status.storage.phase).isEqualTo("Refused");
    }

    @Test
    void expandingVolumesAreReportedWhileTheClusterStaysReady() {
        VolumePlan.Decision growing = VolumePlan.decide("20Gi", null, new VolumePlan.Template("10Gi", "standard"),
                List.of(new VolumePlan.Claim("data-c-0", "standard", "20Gi", "10Gi", List.of("Resizing"))));
        BrokerClusterStatus status = settle(cluster("1.2"), sts(3, 3, 3), STEADY, growing, new RollingRestart.Done(3), false);
        assertThat(List.of(status.storage.phase, status.storage.size, status.storage.storageClassName))
                .containsExactly("Expanding", "20Gi", "standard");
        assertThat(status.storage.message).isEqualTo("0 of 1 volumes at their size; data-c-0: 10Gi of 20Gi (Resizing)");
        assertCondition(status, Conditions.DEGRADED, "False", "SpecValid");
        assertCondition(status, Conditions.READY, "True", "AllBrokersReady");
    }

    @Test
    void afterARollbackTheReasonAndTheLastStableSpecStay() {
        BrokerCluster cluster = cluster("2.0-bad");
        BrokerClusterSpec stable = new BrokerClusterSpec();
        stable.version = "1.2";
        BrokerClusterStatus before = new BrokerClusterStatus();
        before.lastStableSpec = stable;
        before.currentVersion = "1.2";
        before.rollout = new BrokerClusterStatus.RolloutStatus();
        before.rollout.phase = BrokerClusterStatus.Phase.RolledBack;
        Conditions.set(before.conditions, Conditions.DEGRADED, true, "CanaryRolledBack", "the canary failed its analysis", 7);
        cluster.setStatus(before);
        BrokerClusterStatus status = settle(cluster, sts(3, 3, 3), STEADY, new RollingRestart.Done(3), true);
        assertCondition(status, Conditions.DEGRADED, "True", "CanaryRolledBack");
        assertThat(status.lastStableSpec).isSameAs(stable);
        assertThat(status.currentVersion).isEqualTo("1.2");
        assertThat(status.rollout.phase).isEqualTo(BrokerClusterStatus.Phase.RolledBack);
        assertThat(status.targetVersion).isEqualTo("2.0-bad");
    }

    @Test
    void shardHealthCountsOfflineAndUnderReplicatedShards() {
        BrokerClusterStatus.Shards h = StatusFunction.shardHealth(List.of(
                new ShardState("t", 0, List.of(1, 2, 3), 1, 0, List.of(1, 2, 3)),
                new ShardState("t", 1, List.of(1, 2, 3), 2, 1, List.of(2, 3)),
                new ShardState("t", 2, List.of(1, 2), -1, 1, List.of(1))), 4);
        assertThat(List.of(h.total, h.underReplicated, h.offline, h.balancedFor)).containsExactly(3, 1, 1, 4);
    }

    private static final VolumePlan.Decision VOLUMES_READY = VolumePlan.decide("10Gi", null, new VolumePlan.Template("10Gi", null), List.of());

    private static BrokerClusterStatus settle(BrokerCluster cluster, StatefulSet sts, ScalePlan.Decision scale,
                                              RollingRestart.Decision rollout, boolean rolledBack) {
        return settle(cluster, sts, scale, VOLUMES_READY, rollout, rolledBack);
    }

    private static BrokerClusterStatus settle(BrokerCluster cluster, StatefulSet sts, ScalePlan.Decision scale, VolumePlan.Decision volumes,
                                              RollingRestart.Decision rollout, boolean rolledBack) {
        BrokerClusterStatus status = cluster.getStatus() == null ? new BrokerClusterStatus() : cluster.getStatus();
        cluster.setStatus(status);
        if (status.rollout == null) {
            status.rollout = new BrokerClusterStatus.RolloutStatus();
            status.rollout.phase = BrokerClusterStatus.Phase.Promoting;
        }
        status.shards = StatusFunction.shardHealth(List.of(), 3);
        ObservedCluster observed = new ObservedCluster(cluster, sts, List.of(), List.of(), List.of(), List.of(), List.of(), 1_000);
        return StatusFunction.settle(status, observed, scale, volumes, rollout, rolledBack);
    }

    private static BrokerCluster cluster(String version) {
        BrokerCluster cluster = new BrokerCluster();
        cluster.setMetadata(new ObjectMetaBuilder().withName("events").withNamespace("prod").withGeneration(7L).build());
        BrokerClusterSpec spec = new BrokerClusterSpec();
        spec.replicas = 3;
        spec.version = version;
        cluster.setSpec(spec);
        return cluster;
    }

    private static StatefulSet sts(int replicas, int ready, int updated) {
        return new StatefulSetBuilder().withNewMetadata().withName("events").endMetadata()
                .withNewSpec().withReplicas(replicas).endSpec()
                .withNewStatus().withReplicas(replicas).withReadyReplicas(ready).withUpdatedReplicas(updated).endStatus().build();
    }

    private static void assertCondition(BrokerClusterStatus status, String type, String value, String reason) {
        Condition c = Conditions.get(status.conditions, type);
        assertThat(c).as(type).isNotNull();
        assertThat(c.getStatus()).as(type + " status").isEqualTo(value);
        assertThat(c.getReason()).as(type + " reason").isEqualTo(reason);
    }
}
