package io.capstan.operator.reconcile;

import io.capstan.cluster.metadata.KubernetesMetadataStore;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.Versioned;
import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterStatus;
import io.fabric8.kubernetes.client.KubernetesClient;

/** How the cluster's shards are doing, from its metadata store: total, under-replicated, offline. */
public interface ShardHealth {
    BrokerClusterStatus.Shards observe(BrokerCluster cluster);

    static ShardHealth fromMetadataStore(KubernetesClient client) {
        return cluster -> {
            BrokerClusterStatus.Shards shards = new BrokerClusterStatus.Shards();
            shards.total = 0;
            shards.underReplicated = 0;
            shards.offline = 0;
            // the brokers' store: ConfigMaps labelled with the cluster's name in its namespace (read only here)
            KubernetesMetadataStore store = new KubernetesMetadataStore(client, cluster.getMetadata().getNamespace(), cluster.getMetadata().getName());
            for (Versioned v : store.list("shards/").values()) {
                ShardState s = MetadataCodec.decode(v.value(), ShardState.class);
                shards.total++;
                if (s.leader() < 0) {
                    shards.offline++;
                } else if (s.isr().size() < s.replicas().size()) {
                    shards.underReplicated++;
                }
            }
            return shards;
        };
    }
}
