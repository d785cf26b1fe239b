package io.capstan.operator.shards;

import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterStatus;

/**
 * What a cluster's brokers keep their metadata in. New clusters: MetadataEntry custom resources, so the brokers' Role
 * grants no access to the namespace's ConfigMaps. Clusters an earlier operator version created (they have a status but
 * no kind recorded) keep ConfigMaps: their brokers' data is there, and moving it under running brokers would split it.
 * Pure; recorded in status.metadataKind on the first pass and never changed.
 */
public final class MetadataKind {
    public static final String METADATA_ENTRY = "MetadataEntry";
    public static final String CONFIG_MAP = "ConfigMap";

    private MetadataKind() {}

    public static String decide(BrokerClusterStatus status) {
        if (status != null && status.metadataKind != null) {
            return status.metadataKind;
        }
        return status != null && status.observedGeneration != null ? CONFIG_MAP : METADATA_ENTRY;
    }

    /** The kind recorded for the cluster (a cluster not yet reconciled: the new clusters' kind). */
    public static String of(BrokerCluster cluster) {
        BrokerClusterStatus status = cluster.getStatus();
        return status == null || status.metadataKind == null ? METADATA_ENTRY : status.metadataKind;
    }
}
