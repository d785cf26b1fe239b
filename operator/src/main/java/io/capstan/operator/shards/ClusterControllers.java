package io.capstan.operator.shards;

import io.capstan.cluster.controller.FailoverController;
import io.capstan.operator.api.BrokerCluster;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One failover controller per BrokerCluster, running in the operator (the active replica only): it fails shards over
 * when a broker's lease expires, finishes reassignments and hands leadership back to preferred replicas.
 */
public final class ClusterControllers implements AutoCloseable {
    private final KubernetesClient client;
    private final long passMs;
    private final Map<String, FailoverController> running = new ConcurrentHashMap<>();

    public ClusterControllers(KubernetesClient client, long passMs) {
        this.client = client;
        this.passMs = passMs;
    }

    public void ensure(BrokerCluster cluster) {
        running.computeIfAbsent(key(cluster), k -> {
            FailoverController controller = new FailoverController(ClusterMetadata.store(client, cluster), System::currentTimeMillis)
                    .withPreferredLeaderElection(60_000);
            controller.start(passMs);
            return controller;
        });
    }

    public void stop(BrokerCluster cluster) {
        FailoverController controller = running.remove(key(cluster));
        if (controller != null) {
            controller.close();
        }
    }

    private static String key(BrokerCluster cluster) {
        return cluster.getMetadata().getNamespace() + "/" + cluster.getMetadata().getName();
    }

    @Override
    public void close() {
        running.values().forEach(FailoverController::close);
        running.clear();
    }
}
