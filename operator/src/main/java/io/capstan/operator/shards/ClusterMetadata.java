package io.capstan.operator.shards;

import io.capstan.cluster.topics.Reassignments;
import io.capstan.cluster.metadata.KubernetesMetadataStore;
import io.capstan.cluster.view.ClusterView;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.planner.AssignmentPlanner;
import io.capstan.operator.api.BrokerCluster;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import org.slf4j.LoggerFactory;

/** The operator's window on a cluster's metadata store: live brokers, shards, and starting reassignments. */
public interface ClusterMetadata {
    List<AssignmentPlanner.Broker> aliveBrokers(BrokerCluster cluster);

    List<ShardState> shards(BrokerCluster cluster);

    /** Starts moving the shard to {@code replicas} (compare-and-set; a lost race is retried on the next pass). */
    void reassign(BrokerCluster cluster, String topic, int partition, List<Integer> replicas);

    /** The cluster version as the brokers' store holds it; null before any broker has registered. */
    default io.capstan.operator.version.ClusterVersionPlan.Observed clusterVersion(BrokerCluster cluster) {
        return null;
    }

    /** Finalizes the cluster version at {@code level}; the store's rules decide again (every registered broker must support it). */
    default io.capstan.cluster.version.ClusterVersionChange.Outcome finalizeClusterVersion(BrokerCluster cluster, int level) {
        return new io.capstan.cluster.version.ClusterVersionChange.Refused("this operator has no metadata store for " + cluster.getMetadata().getName());
    }

    /** The brokers' store: objects of the cluster's metadata kind, named after the cluster, in its namespace. */
    static MetadataStore store(KubernetesClient client, BrokerCluster cluster) {
        return new KubernetesMetadataStore(client, cluster.getMetadata().getNamespace(), cluster.getMetadata().getName(),
                KubernetesMetadataStore.ObjectKind.named(MetadataKind.of(cluster)));
    }

    /** Shards and live brokers from the cluster's watch-driven view (no reads of the store); moves by compare-and-set. */
    static ClusterMetadata kubernetes(KubernetesClient client, ClusterControllers controllers) {
        return new ClusterMetadata() {
            @Override
            public List<AssignmentPlanner.Broker> aliveBrokers(BrokerCluster cluster) {
                return controllers.ensure(cluster).aliveBrokers().stream()
                        .map(b -> new AssignmentPlanner.Broker(b.id(), b.rack())).toList();
            }

            @Override
            public List<ShardState> shards(BrokerCluster cluster) {
                return controllers.ensure(cluster).shards().values().stream().map(ClusterView.Shard::state).toList();
            }

            @Override
            public io.capstan.operator.version.ClusterVersionPlan.Observed clusterVersion(BrokerCluster cluster) {
                ClusterView view = controllers.ensure(cluster);
                if (view.brokers().isEmpty()) {
                    return null;
                }
                int supported = view.brokers().values().stream().mapToInt(io.capstan.cluster.version.ClusterVersion::supportedBy).min().orElseThrow();
                return new io.capstan.operator.version.ClusterVersionPlan.Observed(
                        io.capstan.cluster.version.ClusterVersion.of(view.cache().get(io.capstan.cluster.version.ClusterVersion.KEY)).level(), supported);
            }

            @Override
            public io.capstan.cluster.version.ClusterVersionChange.Outcome finalizeClusterVersion(BrokerCluster cluster, int level) {
                return new io.capstan.cluster.version.ClusterVersionStore(store(client, cluster)).finalizeAt(level, false);
            }

            @Override
            public void reassign(BrokerCluster cluster, String topic, int partition, List<Integer> replicas) {
                // the same start-or-replace the brokers' AlterPartitionReassignments uses
                var outcome = new Reassignments(store(client, cluster), System::currentTimeMillis)
                        .alter(topic, partition, replicas, true);
                if (!outcome.done()) {
                    LoggerFactory.getLogger(ClusterMetadata.class).info("{}/{}: moving {}-{} not started ({}: {}); the next pass decides again",
                            cluster.getMetadata().getNamespace(), cluster.getMetadata().getName(), topic, partition, outcome.result(), outcome.message());
                }
            }
        };
    }
}
