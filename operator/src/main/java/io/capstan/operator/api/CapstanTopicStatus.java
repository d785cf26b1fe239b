package io.capstan.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** The topic as the cluster has it: partitions, replicas, and each partition's leader and in-sync replicas. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CapstanTopicStatus {
    public Long observedGeneration;
    public List<Condition> conditions = new ArrayList<>();
    public String topicName;
    public Integer partitions;
    public Integer replicationFactor;
    /** The config keys the operator set from spec.config: one removed from the spec is removed from the topic too. */
    public List<String> appliedConfigs = new ArrayList<>();
    /** Each partition (shard): its leader (-1: none) and in-sync replicas, as the cluster's metadata says. */
    public List<Shard> shards = new ArrayList<>();

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Shard {
        public Integer partition;
        public Integer leader;
        public List<Integer> replicas;
        public List<Integer> isr;
    }
}
