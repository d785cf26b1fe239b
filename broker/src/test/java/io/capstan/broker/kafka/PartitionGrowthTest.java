package io.capstan.broker.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

class PartitionGrowthTest {
    private static final Set<Integer> LIVE = Set.of(0, 1, 2);

    private static PartitionGrowth.Refusal check(int current, int requested, List<List<Integer>> assignments, int cluster, int max) {
        return PartitionGrowth.check(current, 2, requested, assignments, cluster, max, LIVE);
    }

    @Test
    void aTopicGrowsOnlyUpwardsAndWithinThePerTopicLimit() {
        assertThat(check(3, 5, null, 10, 100)).isNull();
        assertThat(check(3, 2, null, 10, 100)).isEqualTo(new PartitionGrowth.Refusal(Errors.INVALID_PARTITIONS,
                "Topic currently has 3 partitions, which is higher than the requested 2."));
        assertThat(check(3, 3, null, 10, 100)).isEqualTo(new PartitionGrowth.Refusal(Errors.INVALID_PARTITIONS, "Topic already has 3 partitions."));
        assertThat(check(3, PartitionGrowth.MAX_PER_TOPIC + 1, null, 10, 100_000).error()).isEqualTo(Errors.INVALID_PARTITIONS);
        assertThat(check(3, PartitionGrowth.MAX_PER_TOPIC, null, 10, 100_000)).isNull();
    }

    @Test
    void theClusterLimitCountsEveryPartitionAndCannotOverflow() {
        assertThat(check(3, 5, null, 98, 100)).as("98 + 2 = 100: at the limit").isNull();
        PartitionGrowth.Refusal over = check(3, 6, null, 98, 100);
        assertThat(over.error()).isEqualTo(Errors.POLICY_VIOLATION);
        assertThat(over.message()).contains("max.partitions").contains("98").contains("100");
        assertThat(PartitionGrowth.clusterLimit(Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE).error())
                .as("no int overflow").isEqualTo(Errors.POLICY_VIOLATION);
        assertThat(PartitionGrowth.clusterLimit(1, 0, 1)).isNull();
    }

    @Test
    void placementNeedsAsManyLiveBrokersAsTheReplicationFactor() {
        PartitionGrowth.Refusal tooFew = PartitionGrowth.check(1, 3, 2, null, 1, 100, Set.of(0, 1));
        assertThat(tooFew.error()).isEqualTo(Errors.INVALID_REPLICATION_FACTOR);
    }

    @Test
    void manualAssignmentsAreCheckedAsKafkaChecksThem() {
        assertThat(check(1, 3, List.of(List.of(0, 1), List.of(2, 0)), 1, 100)).isNull();
        assertThat(check(1, 3, List.of(List.of(0, 1)), 1, 100)).isEqualTo(new PartitionGrowth.Refusal(Errors.INVALID_REPLICA_ASSIGNMENT,
                "Attempted to add 2 additional partitions, but only 1 assignment(s) were specified."));
        assertThat(check(1, 2, List.of(List.of(0)), 1, 100).message())
                .isEqualTo("The manual partition assignment includes a partition with 1 replica(s), but this is not consistent with previous"
                        + " partitions, which have 2 replica(s).");
        assertThat(check(1, 2, List.of(List.of(1, 1)), 1, 100).message())
                .isEqualTo("The manual partition assignment includes the broker 1 more than once.");
        PartitionGrowth.Refusal unknown = check(1, 2, List.of(List.of(0, 7)), 1, 100);
        assertThat(unknown.error()).isEqualTo(Errors.INVALID_REPLICA_ASSIGNMENT);
        assertThat(unknown.message()).contains("broker 7");
    }
}
