package io.capstan.operator.topics;

import io.capstan.operator.spec.SpecProblem;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What to do to make a topic what its CapstanTopic says, given the topic as the cluster has it. Kafka can add
 * partitions and change configs, not remove partitions or change a replication factor in place: those are refused,
 * naming the field, and the rest is still done. A config the topic has but the spec does not is the spec's to remove
 * when the operator applied it before, and drift otherwise (set through the Kafka API): reported, or reverted when the
 * spec says so. Pure.
 */
public final class TopicPlan {
    private TopicPlan() {}

    /** The topic as the cluster has it: partitions, replicas per partition, and the configs set on it explicitly. */
    public record Observed(int partitions, int replicationFactor, Map<String, String> configs) {
        public Observed {
            configs = Map.copyOf(configs);
        }
    }

    /** What the spec asks for; {@code replicationFactor} null means the cluster's default. */
    public record Wanted(int partitions, Integer replicationFactor, Map<String, String> configs, boolean revertDrift) {
        public Wanted {
            configs = Map.copyOf(configs);
        }
    }

    /**
     * {@code create}: the topic does not exist and is to be created as wanted (nothing else applies); {@code growTo}:
     * the partition count to raise it to (0: none); configs to set and to remove; what is refused; configs set outside
     * the spec and left (reported as drift).
     */
    public record Plan(boolean create, int growTo, Map<String, String> set, Set<String> remove, List<SpecProblem> refused,
                       Map<String, String> drift) {
        public Plan {
            set = Map.copyOf(set);
            remove = Set.copyOf(remove);
            refused = List.copyOf(refused);
            drift = Map.copyOf(drift);
        }

        public boolean changes() {
            return create || growTo > 0 || !set.isEmpty() || !remove.isEmpty();
        }
    }

    /**
     * @param observed   the topic, null when the cluster does not have it
     * @param applied    the config keys the operator set on it before (from the CapstanTopic's status)
     */
    public static Plan decide(Wanted wanted, Observed observed, Set<String> applied) {
        if (observed == null) {
            return new Plan(true, 0, wanted.configs(), Set.of(), List.of(), Map.of());
        }
        List<SpecProblem> refused = new ArrayList<>();
        int growTo = 0;
        if (wanted.partitions() < observed.partitions()) {
            refused.add(new SpecProblem("spec.partitions", "is " + wanted.partitions() + " but the topic has " + observed.partitions()
                    + " partitions, and Kafka cannot remove partitions; set it back to " + observed.partitions()
                    + " or more (fewer partitions need a new topic)"));
        } else if (wanted.partitions() > observed.partitions()) {
            growTo = wanted.partitions();
        }
        if (wanted.replicationFactor() != null && wanted.replicationFactor() != observed.replicationFactor()) {
            refused.add(new SpecProblem("spec.replicationFactor", "is " + wanted.replicationFactor() + " but the topic's partitions have "
                    + observed.replicationFactor() + " replicas; the replication factor is chosen at creation, so set it back to "
                    + observed.replicationFactor() + " or remove the field (more replicas per partition mean moving replicas, not"
                    + " a topic setting)"));
        }
        Map<String, String> set = new TreeMap<>();
        wanted.configs().forEach((key, value) -> {
            if (!value.equals(observed.configs().get(key))) {
                set.put(key, value);
            }
        });
        Set<String> remove = new TreeSet<>();
        Map<String, String> drift = new TreeMap<>();
        observed.configs().forEach((key, value) -> {
            if (wanted.configs().containsKey(key)) {
                return;
            }
            if (applied.contains(key) || wanted.revertDrift()) {
                remove.add(key);
            } else {
                drift.put(key, value);
            }
        });
        return new Plan(false, growTo, set, remove, refused, drift);
    }
}
