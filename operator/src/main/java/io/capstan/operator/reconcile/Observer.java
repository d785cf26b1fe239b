package io.capstan.operator.reconcile;

import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.resources.Labels;
import io.capstan.operator.shards.ClusterMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.util.List;
import java.util.function.LongSupplier;

/** Reads what a pass decides on into an {@link ObservedCluster}. */
public interface Observer {
    ObservedCluster observe(BrokerCluster cluster);

    /**
     * From JOSDK's informer caches (the StatefulSet, broker-pod, claim and Service event sources the reconciler registers): no request
     * to the API server. The metadata store is read from the operator's watch of it.
     */
    static Observer cached(Context<BrokerCluster> context, ClusterMetadata metadata, LongSupplier clock) {
        return cluster -> new ObservedCluster(cluster,
                context.getSecondaryResource(StatefulSet.class).orElse(null),
                List.copyOf(context.getSecondaryResources(Pod.class)),
                List.copyOf(context.getSecondaryResources(PersistentVolumeClaim.class)),
                List.copyOf(context.getSecondaryResources(Service.class)),
                metadata.shards(cluster), metadata.aliveBrokers(cluster), clock.getAsLong(), metadata.clusterVersion(cluster));
    }

    /** Straight from the API server: one GET and three LISTs (a pass run outside JOSDK, as the mock-server tests do). */
    static Observer direct(KubernetesClient client, ClusterMetadata metadata, LongSupplier clock) {
        return cluster -> {
            String namespace = cluster.getMetadata().getNamespace();
            StatefulSet sts = client.apps().statefulSets().inNamespace(namespace).withName(cluster.getMetadata().getName()).get();
            List<Pod> pods = client.pods().inNamespace(namespace).withLabels(Labels.selector(cluster.getMetadata().getName())).list().getItems();
            List<PersistentVolumeClaim> claims = client.persistentVolumeClaims().inNamespace(namespace)
                    .withLabels(Labels.selector(cluster.getMetadata().getName())).list().getItems();
            List<Service> services = client.services().inNamespace(namespace)
                    .withLabels(Labels.selector(cluster.getMetadata().getName())).list().getItems();
            return new ObservedCluster(cluster, sts, pods, claims, services, metadata.shards(cluster), metadata.aliveBrokers(cluster),
                    clock.getAsLong(), metadata.clusterVersion(cluster));
        };
    }
}
