package io.capstan.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Where the rebalance is: measuring, proposed (waiting for approval), moving, or finished. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CapstanRebalanceStatus {
    public Long observedGeneration;
    public List<Condition> conditions = new ArrayList<>();
    /** Sampling, Proposed, Balanced (nothing worth moving), Executing, Done or Failed. */
    public String phase;
    public String message;
    public Proposal proposal;
    /** Where executing set the replication throttle, so finishing (or deleting this resource) removes it there. */
    public List<Integer> throttledBrokers;
    public List<String> throttledTopics;

    /** The changes and the balance they are expected to bring. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Proposal {
        /** Identifies these moves from this assignment: spec.approvedProposal must name it. */
        public String id;
        public Integer moveCount;
        public List<Move> moves = new ArrayList<>();
        /** Each broker's measured load (bytes a second) now, and as the proposal would leave it. */
        public Map<String, Long> brokerLoadBefore = new TreeMap<>();
        public Map<String, Long> brokerLoadAfter = new TreeMap<>();
        /** The busiest broker's load over the mean, now and after (1.00 is perfectly even). */
        public String maxOverMeanBefore;
        public String maxOverMeanAfter;
        /** The replica lists to reach, each leader first: what is submitted as the reassignment. */
        public List<Target> targets = new ArrayList<>();
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Move {
        public String topic;
        public Integer partition;
        /** Leader (a transfer of leadership, no data copied) or Replica (a replica's data copied to another broker). */
        public String kind;
        public Integer from;
        public Integer to;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Target {
        public String topic;
        public Integer partition;
        public List<Integer> replicas;
    }
}
