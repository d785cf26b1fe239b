package io.capstan.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.model.annotation.LabelSelector;
import io.fabric8.kubernetes.model.annotation.StatusReplicas;
import java.util.ArrayList;
import java.util.List;

/** What the operator observed and did, with conditions a human can act on. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class BrokerClusterStatus {
    public Long observedGeneration;
    public List<Condition> conditions = new ArrayList<>();

    @StatusReplicas
    public Integer replicas;

    public Integer readyReplicas;

    public Integer updatedReplicas;
    public String currentVersion;
    public String targetVersion;

    @LabelSelector
    public String selector;

    public RolloutStatus rollout;
    public Shards shards;
    public Storage storage;
    /** Where clients outside the cluster bootstrap from, per listener of type nodeport or loadbalancer. */
    public List<ListenerStatus> listeners;
    public BrokerClusterSpec lastStableSpec;
    /**
     * What the brokers keep their metadata store in: MetadataEntry custom resources (clusters created by this operator
     * version on), or ConfigMaps (clusters an earlier version created; they keep them). Decided once.
     */
    public String metadataKind;
    public ClusterVersion clusterVersion;

    public enum Phase { Canary, Paused, Promoting, Complete, RolledBack }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class RolloutStatus {
        public Integer step;
        public Phase phase;
        public String message;
        /** The StatefulSet revision this rollout moves the brokers to. */
        public String revision;
        public Long pauseStartedMs;
        public Integer analysisFailures;
        public Long lastAnalysisMs;
        /** The spec generation whose canary was rolled back; the last stable spec runs until the spec changes. */
        public Long rolledBackGeneration;
    }

    /** The brokers' volumes: the size they are grown to, and how far that has got. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class ListenerStatus {
        public String name;
        public String type;
        /** host:port, comma-separated; absent while the addresses are not known yet (a load balancer not provisioned). */
        public String bootstrapServers;
        public String message;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Storage {
        /** The size asked for: spec.storage.size (the last stable spec's after a rollback). */
        public String size;
        /** The class the volumes were created with. */
        public String storageClassName;
        /** Ready, Expanding (a volume or its file system is still growing) or Refused (see the Degraded condition). */
        public String phase;
        public String message;
    }

    public static class Shards {
        public Integer total;
        public Integer underReplicated;
        public Integer offline;
        /** The broker count the shards were last placed for; a different spec.replicas starts a rebalance. */
        public Integer balancedFor;
    }

    /** The cluster version (spec.clusterVersion) as the metadata store holds it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class ClusterVersion {
        /** The level finalized in the metadata store. */
        public Integer finalized;
        /** The newest level every registered broker supports. */
        public Integer supportedByAllBrokers;
        /** A level the operator raised the cluster to and restarts the brokers for; kept so the restart happens once. */
        public Integer restartedFor;
        /** Why the level is not raised yet, when it could be. */
        public String message;
    }
}
