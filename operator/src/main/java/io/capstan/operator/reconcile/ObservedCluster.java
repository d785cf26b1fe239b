package io.capstan.operator.reconcile;

import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.planner.AssignmentPlanner;
import io.capstan.operator.api.BrokerCluster;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.util.List;

/**
 * Everything a reconcile pass decides on, read once at its start: the BrokerCluster, its StatefulSet (null before the
 * first pass created it), broker pods, their volumes' claims and the cluster's Services as the operator's informers hold them, and the shards
 * and live brokers of its metadata store and its cluster version (null while unknown) as the operator's watch holds them. The steps after it read nothing else.
 */
public record ObservedCluster(BrokerCluster cluster, StatefulSet statefulSet, List<Pod> pods, List<PersistentVolumeClaim> claims,
                              List<Service> services, List<ShardState> shards, List<AssignmentPlanner.Broker> aliveBrokers, long nowMs,
                              io.capstan.operator.version.ClusterVersionPlan.Observed clusterVersion) {
    public ObservedCluster(BrokerCluster cluster, StatefulSet statefulSet, List<Pod> pods, List<PersistentVolumeClaim> claims,
                           List<Service> services, List<ShardState> shards, List<AssignmentPlanner.Broker> aliveBrokers, long nowMs) {
        this(cluster, statefulSet, pods, claims, services, shards, aliveBrokers, nowMs, null);
    }

    public ObservedCluster {
        pods = List.copyOf(pods);
        claims = List.copyOf(claims);
        services = List.copyOf(services);
        shards = List.copyOf(shards);
        aliveBrokers = List.copyOf(aliveBrokers);
    }

    public String namespace() {
        return cluster.getMetadata().getNamespace();
    }

    public String name() {
        return cluster.getMetadata().getName();
    }

    public long generation() {
        return cluster.getMetadata().getGeneration() == null ? 0 : cluster.getMetadata().getGeneration();
    }

    /** Brokers the StatefulSet runs now (its spec; the wanted count before it exists). */
    public int runningBrokers() {
        return statefulSet == null || statefulSet.getSpec() == null || statefulSet.getSpec().getReplicas() == null
                ? cluster.getSpec().replicas : statefulSet.getSpec().getReplicas();
    }

    public int readyReplicas() {
        return statefulSet == null || statefulSet.getStatus() == null || statefulSet.getStatus().getReadyReplicas() == null
                ? 0 : statefulSet.getStatus().getReadyReplicas();
    }

    public int currentReplicas() {
        return statefulSet == null || statefulSet.getStatus() == null || statefulSet.getStatus().getReplicas() == null
                ? 0 : statefulSet.getStatus().getReplicas();
    }

    public int updatedReplicas() {
        return statefulSet == null || statefulSet.getStatus() == null || statefulSet.getStatus().getUpdatedReplicas() == null
                ? 0 : statefulSet.getStatus().getUpdatedReplicas();
    }
}
