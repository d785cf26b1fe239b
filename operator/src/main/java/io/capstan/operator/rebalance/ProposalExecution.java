package io.capstan.operator.rebalance;

import io.capstan.operator.api.CapstanRebalanceStatus;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.ElectionNotNeededException;

/**
 * Carries a proposal out through the Kafka Admin API, as kafka-reassign-partitions --throttle does: the replication
 * throttle on the brokers and topics that copy data (KIP-73), the reassignments (each target lists its new leader
 * first), then, once every copy is in sync, a preferred-leader election and the throttle removed again. Each step is
 * safe to repeat, so an operator that restarts midway picks up where the status says it was.
 */
public final class ProposalExecution {
    static final String LEADER_RATE = "leader.replication.throttled.rate";
    static final String FOLLOWER_RATE = "follower.replication.throttled.rate";
    static final String LEADER_REPLICAS = "leader.replication.throttled.replicas";
    static final String FOLLOWER_REPLICAS = "follower.replication.throttled.replicas";
    private static final long TIMEOUT_S = 30;

    private final Admin admin;

    public ProposalExecution(Admin admin) {
        this.admin = admin;
    }

    /** The throttles a proposal needs: the rates on each broker that sends or receives a copy, the replicas on each topic. */
    public record Throttles(Set<Integer> brokers, Map<String, String> leaderReplicas, Map<String, String> followerReplicas) {
        /** Every topic with a throttled replica on either side. */
        public Set<String> topics() {
            Set<String> all = new TreeSet<>(leaderReplicas.keySet());
            all.addAll(followerReplicas.keySet());
            return all;
        }
    }

    /**
     * What to throttle for {@code targets}, given each shard's replicas now: the current replicas send (leader side),
     * the new ones receive (follower side). A leadership transfer copies nothing and throttles nothing. Pure.
     */
    public static Throttles throttles(List<CapstanRebalanceStatus.Target> targets, Map<TopicPartition, List<Integer>> current) {
        Set<Integer> brokers = new TreeSet<>();
        Map<String, Set<String>> leader = new TreeMap<>();
        Map<String, Set<String>> follower = new TreeMap<>();
        for (CapstanRebalanceStatus.Target t : targets) {
            List<Integer> now = current.getOrDefault(new TopicPartition(t.topic, t.partition), List.of());
            List<Integer> added = t.replicas.stream().filter(b -> !now.contains(b)).toList();
            if (added.isEmpty()) {
                continue;
            }
            brokers.addAll(now);
            brokers.addAll(added);
            now.forEach(b -> leader.computeIfAbsent(t.topic, k -> new LinkedHashSet<>()).add(t.partition + ":" + b));
            added.forEach(b -> follower.computeIfAbsent(t.topic, k -> new LinkedHashSet<>()).add(t.partition + ":" + b));
        }
        Map<String, String> leaderReplicas = new TreeMap<>();
        leader.forEach((topic, list) -> leaderReplicas.put(topic, String.join(",", list)));
        Map<String, String> followerReplicas = new TreeMap<>();
        follower.forEach((topic, list) -> followerReplicas.put(topic, String.join(",", list)));
        return new Throttles(brokers, leaderReplicas, followerReplicas);
    }

    /** Sets the throttle, then submits every target as a reassignment. */
    public void start(List<CapstanRebalanceStatus.Target> targets, Throttles throttles, long bytesPerSecond)
            throws ExecutionException, InterruptedException, TimeoutException {
        Map<ConfigResource, Collection<AlterConfigOp>> configs = new HashMap<>();
        for (int broker : throttles.brokers()) {
            configs.put(new ConfigResource(ConfigResource.Type.BROKER, String.valueOf(broker)), List.of(
                    set(LEADER_RATE, String.valueOf(bytesPerSecond)), set(FOLLOWER_RATE, String.valueOf(bytesPerSecond))));
        }
        for (String topic : throttles.topics()) {
            List<AlterConfigOp> ops = new ArrayList<>();
            Optional.ofNullable(throttles.leaderReplicas().get(topic)).ifPresent(v -> ops.add(set(LEADER_REPLICAS, v)));
            Optional.ofNullable(throttles.followerReplicas().get(topic)).ifPresent(v -> ops.add(set(FOLLOWER_REPLICAS, v)));
            configs.put(new ConfigResource(ConfigResource.Type.TOPIC, topic), ops);
        }
        if (!configs.isEmpty()) {
            admin.incrementalAlterConfigs(configs).all().get(TIMEOUT_S, TimeUnit.SECONDS);
        }
        Map<TopicPartition, Optional<NewPartitionReassignment>> reassignments = new HashMap<>();
        targets.forEach(t -> reassignments.put(new TopicPartition(t.topic, t.partition), Optional.of(new NewPartitionReassignment(t.replicas))));
        admin.alterPartitionReassignments(reassignments).all().get(TIMEOUT_S, TimeUnit.SECONDS);
    }

    /** How many of the targets are still being reassigned (their new replicas catching up). */
    public int running(List<CapstanRebalanceStatus.Target> targets) throws ExecutionException, InterruptedException, TimeoutException {
        Set<TopicPartition> mine = new java.util.HashSet<>();
        targets.forEach(t -> mine.add(new TopicPartition(t.topic, t.partition)));
        return (int) admin.listPartitionReassignments(mine).reassignments().get(TIMEOUT_S, TimeUnit.SECONDS).keySet().stream()
                .filter(mine::contains).count();
    }

    /**
     * Hands each target's leadership to its first replica and removes the throttle. Returns the shards whose
     * preferred replica could not take over (not in sync yet, or gone), each with why.
     */
    public Map<TopicPartition, String> finish(List<CapstanRebalanceStatus.Target> targets, Set<Integer> throttledBrokers,
                                              Set<String> throttledTopics) throws ExecutionException, InterruptedException, TimeoutException {
        Set<TopicPartition> partitions = new java.util.HashSet<>();
        targets.forEach(t -> partitions.add(new TopicPartition(t.topic, t.partition)));
        Map<TopicPartition, String> failed = new TreeMap<>(java.util.Comparator.comparing(TopicPartition::toString));
        if (!partitions.isEmpty()) {
            admin.electLeaders(ElectionType.PREFERRED, partitions).partitions().get(TIMEOUT_S, TimeUnit.SECONDS).forEach((tp, error) -> {
                if (error.isPresent() && !(error.get() instanceof ElectionNotNeededException)) {
                    failed.put(tp, error.get().getMessage());
                }
            });
        }
        clear(throttledBrokers, throttledTopics);
        return failed;
    }

    /**
     * Removes the throttle {@link #start} set on these brokers and topics ({@link Throttles#topics()}); repeatable:
     * deleting an absent config is no error.
     */
    public void clear(Set<Integer> brokers, Set<String> topics) throws ExecutionException, InterruptedException, TimeoutException {
        Map<ConfigResource, Collection<AlterConfigOp>> configs = new HashMap<>();
        for (int broker : brokers) {
            configs.put(new ConfigResource(ConfigResource.Type.BROKER, String.valueOf(broker)), List.of(delete(LEADER_RATE), delete(FOLLOWER_RATE)));
        }
        for (String topic : topics) {
            configs.put(new ConfigResource(ConfigResource.Type.TOPIC, topic), List.of(delete(LEADER_REPLICAS), delete(FOLLOWER_REPLICAS)));
        }
        if (!configs.isEmpty()) {
            admin.incrementalAlterConfigs(configs).all().get(TIMEOUT_S, TimeUnit.SECONDS);
        }
    }

    private static AlterConfigOp set(String key, String value) {
        return new AlterConfigOp(new ConfigEntry(key, value), AlterConfigOp.OpType.SET);
    }

    private static AlterConfigOp delete(String key) {
        return new AlterConfigOp(new ConfigEntry(key, null), AlterConfigOp.OpType.DELETE);
    }
}
