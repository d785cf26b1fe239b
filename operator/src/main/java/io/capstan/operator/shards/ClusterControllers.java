package io.capstan.operator.shards;

import io.capstan.cluster.controller.FailoverController;
import io.capstan.cluster.metadata.MetadataCache;
import io.capstan.cluster.view.ClusterView;
import io.capstan.operator.api.BrokerCluster;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per BrokerCluster, in the operator (the active replica only): a watch-driven cache of the brokers' metadata store,
 * the view the reconciler reads shards and live brokers from (no listing per pass), and the failover controller over
 * it, which fails shards over when a broker's lease expires, finishes reassignments and hands leadership back to
 * preferred replicas.
 */
public final class ClusterControllers implements AutoCloseable {
    private final KubernetesClient client;
    private final long passMs;
    private final Map<String, Running> running = new ConcurrentHashMap<>();

    private record Running(MetadataCache cache, ClusterView view, FailoverController controller) {
        void close() {
            controller.close();
            view.close();
            cache.close();
        }
    }

    public ClusterControllers(KubernetesClient client, long passMs) {
        this.client = client;
        this.passMs = passMs;
    }

    /** Starts watching the cluster's store and running its controller, once; returns the view. */
    public ClusterView ensure(BrokerCluster cluster) {
        return running.computeIfAbsent(key(cluster), k -> {
            MetadataCache cache = MetadataCache.open(ClusterMetadata.store(client, cluster), Duration.ofMinutes(2));
            ClusterView view = new ClusterView(cache, System::currentTimeMillis);
            FailoverController controller = new FailoverController(view).withPreferredLeaderElection(60_000);
            controller.start(passMs);
            return new Running(cache, view, controller);
        }).view();
    }

    /** Each running controller's {failovers, passes}, by cluster ({@code namespace/name}). */
    public java.util.Map<String, long[]> counters() {
        java.util.Map<String, long[]> counters = new java.util.TreeMap<>();
        running.forEach((cluster, r) -> counters.put(cluster, new long[] {r.controller().failovers(), r.controller().passes()}));
        return counters;
    }

    public void stop(BrokerCluster cluster) {
        Running r = running.remove(key(cluster));
        if (r != null) {
            r.close();
        }
    }

    private static String key(BrokerCluster cluster) {
        return cluster.getMetadata().getNamespace() + "/" + cluster.getMetadata().getName();
    }

    @Override
    public void close() {
        running.values().forEach(Running::close);
        running.clear();
    }
}
