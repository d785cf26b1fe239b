package io.capstan.operator.console;

import io.capstan.console.Rollout;
import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.api.BrokerClusterStatus;
import java.util.List;

/** A BrokerCluster's rollout as the console shows it: read from the resource's spec and the status this operator wrote. */
final class RolloutView {
    private RolloutView() {}

    static Rollout of(BrokerCluster cluster) {
        BrokerClusterSpec spec = cluster.getSpec();
        BrokerClusterStatus status = cluster.getStatus() != null ? cluster.getStatus() : new BrokerClusterStatus();
        BrokerClusterStatus.RolloutStatus rollout = status.rollout;
        int steps = spec.rollout != null && spec.rollout.canary != null ? spec.rollout.canary.steps.size() : 0;
        List<Rollout.Condition> conditions = status.conditions == null ? List.of() : status.conditions.stream()
                .map(c -> new Rollout.Condition(c.getType(), c.getStatus(), c.getReason(), c.getMessage(), c.getLastTransitionTime()))
                .toList();
        Long generation = cluster.getMetadata().getGeneration();
        return new Rollout(cluster.getMetadata().getNamespace(), cluster.getMetadata().getName(), generation == null ? 0 : generation,
                status.observedGeneration == null ? 0 : status.observedGeneration,
                status.targetVersion != null ? status.targetVersion : spec.version, status.currentVersion,
                status.replicas != null ? status.replicas : spec.replicas, orZero(status.readyReplicas), orZero(status.updatedReplicas),
                rollout == null || rollout.phase == null ? null : rollout.phase.name(),
                // the status counts steps from 0 (and is past the last once complete); a person counts from 1
                rollout == null || rollout.step == null || rollout.step >= steps ? null : rollout.step + 1, steps,
                rollout == null ? null : rollout.message,
                status.clusterVersion == null ? null : status.clusterVersion.finalized, conditions);
    }

    private static int orZero(Integer n) {
        return n == null ? 0 : n;
    }
}
