package io.capstan.operator.reconcile;

import io.capstan.operator.resources.ExternalListeners;

import io.capstan.cluster.metadata.ShardState;
import io.capstan.operator.api.BrokerClusterStatus;
import io.capstan.operator.rollout.RollingRestart;
import io.capstan.operator.shards.ScalePlan;
import io.capstan.operator.storage.VolumePlan;
import java.util.List;

/**
 * What a pass reports, as a function of what it observed and what it decided: replica counts from the StatefulSet, the
 * Degraded, Ready and Progressing conditions, and the spec recorded as stable once every broker runs it. Reads nothing
 * else, so every outcome is a unit test away.
 */
final class StatusFunction {
    private StatusFunction() {}

    static BrokerClusterStatus.Shards shardHealth(List<ShardState> shards, Integer balancedFor) {
        BrokerClusterStatus.Shards h = new BrokerClusterStatus.Shards();
        h.total = shards.size();
        h.offline = (int) shards.stream().filter(s -> s.leader() < 0).count();
        h.underReplicated = (int) shards.stream().filter(s -> s.leader() >= 0 && s.isr().size() < s.replicas().size()).count();
        h.balancedFor = balancedFor;
        return h;
    }

    static BrokerClusterStatus.Storage storage(VolumePlan.Decision volumes) {
        BrokerClusterStatus.Storage s = new BrokerClusterStatus.Storage();
        s.size = volumes.size();
        s.storageClassName = volumes.template().storageClass();
        s.phase = volumes.phase().name();
        s.message = volumes.message();
        return s;
    }

    /** Every broker wanted is running the current template and ready. */
    static boolean settled(ObservedCluster observed, RollingRestart.Decision rollout) {
        int want = observed.cluster().getSpec().replicas;
        return observed.readyReplicas() == want && observed.currentReplicas() == want && rollout instanceof RollingRestart.Done;
    }

    /** TLSRoutes cannot be written ({@code problem} says why): the tlsroute listeners have no bootstrap address, and the cluster is Degraded. */
    static void routesUnavailable(BrokerClusterStatus status, io.capstan.operator.api.BrokerCluster cluster, String problem, long generation) {
        if (status.listeners != null) {
            for (var l : status.listeners) {
                if ("tlsroute".equals(l.type)) {
                    l.bootstrapServers = null;
                    l.message = problem;
                }
            }
        }
        Conditions.set(status.conditions, Conditions.DEGRADED, true, "TLSRouteUnavailable", problem, generation);
    }

    /** Completes {@code status} (the rollout step has written its own part) and returns it. */
    static BrokerClusterStatus settle(BrokerClusterStatus status, ObservedCluster observed, ScalePlan.Decision scale,
                                      VolumePlan.Decision volumes, RollingRestart.Decision rollout, boolean rolledBack) {
        long generation = observed.generation();
        int want = observed.cluster().getSpec().replicas;
        int ready = observed.readyReplicas();
        int current = observed.currentReplicas();
        status.shards.balancedFor = scale.balancedFor();
        status.replicas = current;
        status.readyReplicas = ready;
        status.updatedReplicas = observed.updatedReplicas();
        status.targetVersion = observed.cluster().getSpec().version;
        status.observedGeneration = generation;
        status.storage = storage(volumes);
        status.listeners = ExternalListeners.of(observed.cluster()).isEmpty() ? null
                : ExternalListeners.status(observed.cluster(), observed.services(), observed.pods());
        if (scale.refusal() != null) {
            Conditions.set(status.conditions, Conditions.DEGRADED, true, "ScaleInRefused", scale.refusal(), generation);
        } else if (!volumes.refused().isEmpty()) {
            Conditions.set(status.conditions, Conditions.DEGRADED, true, "StorageChangeRefused", volumes.message()
                    + " (the volumes are left as they are)", generation);
        } else if (!rolledBack) {
            // after a rollback the CanaryRolledBack condition stays, with its reason, until the spec changes
            Conditions.set(status.conditions, Conditions.DEGRADED, false, "SpecValid", "the spec is valid", generation);
        }
        boolean allReady = ready == want && current == want;
        boolean settled = settled(observed, rollout);
        if (settled && !rolledBack) {
            status.currentVersion = observed.cluster().getSpec().version;
            status.lastStableSpec = observed.cluster().getSpec();
        }
        if (settled && status.rollout != null && status.rollout.phase != BrokerClusterStatus.Phase.RolledBack) {
            status.rollout.phase = BrokerClusterStatus.Phase.Complete;
            status.rollout.message = "every broker runs the current template";
        }
        Conditions.set(status.conditions, Conditions.READY, allReady, allReady ? "AllBrokersReady" : "BrokersStarting",
                ready + " of " + want + " brokers ready", generation);
        String why = rollout instanceof RollingRestart.Restart r ? "restarting broker " + r.ordinal() + " onto the new template ("
                + r.updated() + " of " + want + " updated)"
                : rollout instanceof RollingRestart.Wait w ? w.reason() : allReady ? "nothing to do"
                : "waiting for " + (want - ready) + " broker(s) to become ready";
        Conditions.set(status.conditions, Conditions.PROGRESSING, !settled,
                settled ? "Stable" : rollout instanceof RollingRestart.Done ? "WaitingForBrokers" : "RollingUpdate", why, generation);
        return status;
    }
}
