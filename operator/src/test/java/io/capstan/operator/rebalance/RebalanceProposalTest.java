package io.capstan.operator.rebalance;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.cluster.planner.AssignmentPlanner.Broker;
import io.capstan.cluster.planner.AssignmentPlanner.ShardId;
import io.capstan.cluster.planner.LoadRebalancer;
import io.capstan.operator.api.CapstanRebalanceStatus;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class RebalanceProposalTest {
    private static final List<Broker> BROKERS = List.of(new Broker(0, "a"), new Broker(1, "b"), new Broker(2, "c"), new Broker(3, "a"));

    /** Four busy shards all led by broker 0, on brokers 0-2; broker 3 holds nothing. */
    private static Map<ShardId, List<Integer>> skewed() {
        Map<ShardId, List<Integer>> current = new TreeMap<>();
        for (int p = 0; p < 4; p++) {
            current.put(new ShardId("hot", p), List.of(0, 1, 2));
        }
        return current;
    }

    private static Map<ShardId, LoadRebalancer.ShardLoad> busy() {
        Map<ShardId, LoadRebalancer.ShardLoad> loads = new TreeMap<>();
        for (int p = 0; p < 4; p++) {
            loads.put(new ShardId("hot", p), new LoadRebalancer.ShardLoad(1_000_000, 2_000_000));
        }
        return loads;
    }

    @Test
    void theStatusListsEachMoveAndTheTargetOfEveryChangedShardLeaderFirst() {
        LoadRebalancer.Proposal proposal = LoadRebalancer.propose(BROKERS, skewed(), busy(), LoadRebalancer.Limits.DEFAULT);
        CapstanRebalanceStatus.Proposal p = RebalanceProposal.of(proposal, skewed());
        assertThat(p.moves).isNotEmpty().hasSize(p.moveCount);
        assertThat(p.id).matches("[0-9a-f]{12}");
        assertThat(Double.parseDouble(p.maxOverMeanAfter)).isLessThan(Double.parseDouble(p.maxOverMeanBefore));
        assertThat(p.brokerLoadBefore).containsOnlyKeys("0", "1", "2", "3");
        assertThat(p.brokerLoadBefore.get("3")).isZero();
        assertThat(p.targets).extracting(t -> t.topic + "-" + t.partition)
                .containsExactlyInAnyOrderElementsOf(p.moves.stream().map(m -> m.topic + "-" + m.partition).distinct().toList());
        for (CapstanRebalanceStatus.Target t : p.targets) {
            assertThat(t.replicas).isEqualTo(proposal.assignment().get(new ShardId(t.topic, t.partition)));
        }
    }

    @Test
    void theIdNamesTheMovesAndTheAssignmentTheyStartFrom() {
        LoadRebalancer.Proposal proposal = LoadRebalancer.propose(BROKERS, skewed(), busy(), LoadRebalancer.Limits.DEFAULT);
        CapstanRebalanceStatus.Proposal p = RebalanceProposal.of(proposal, skewed());
        assertThat(RebalanceProposal.id(skewed(), p.moves)).as("the same moves from the same assignment").isEqualTo(p.id);
        Map<ShardId, List<Integer>> failedOver = skewed();
        failedOver.put(new ShardId("hot", 3), List.of(1, 0, 2));
        assertThat(RebalanceProposal.id(failedOver, p.moves)).as("a leader changed since").isNotEqualTo(p.id);
        assertThat(RebalanceProposal.id(skewed(), p.moves.subList(1, p.moves.size()))).as("other moves").isNotEqualTo(p.id);
    }

    @Test
    void onlyReplicaCopiesAreThrottledTheSendersOnTheLeaderSideTheNewReplicasOnTheFollowerSide() {
        CapstanRebalanceStatus.Target moved = target("hot", 0, 3, 1, 2);
        CapstanRebalanceStatus.Target transferred = target("hot", 1, 1, 0, 2);
        CapstanRebalanceStatus.Target other = target("cold", 4, 2, 3);
        Map<TopicPartition, List<Integer>> current = Map.of(new TopicPartition("hot", 0), List.of(0, 1, 2),
                new TopicPartition("hot", 1), List.of(0, 1, 2), new TopicPartition("cold", 4), List.of(2, 1));
        ProposalExecution.Throttles t = ProposalExecution.throttles(List.of(moved, transferred, other), current);
        assertThat(t.brokers()).containsExactly(0, 1, 2, 3);
        assertThat(t.leaderReplicas()).containsExactly(Map.entry("cold", "4:2,4:1"), Map.entry("hot", "0:0,0:1,0:2"));
        assertThat(t.followerReplicas()).containsExactly(Map.entry("cold", "4:3"), Map.entry("hot", "0:3"));
        assertThat(t.topics()).as("what finishing clears").containsExactly("cold", "hot");
        assertThat(ProposalExecution.throttles(List.of(transferred), current).brokers()).as("a leadership transfer copies nothing").isEmpty();
    }

    private static CapstanRebalanceStatus.Target target(String topic, int partition, Integer... replicas) {
        CapstanRebalanceStatus.Target t = new CapstanRebalanceStatus.Target();
        t.topic = topic;
        t.partition = partition;
        t.replicas = List.of(replicas);
        return t;
    }
}
