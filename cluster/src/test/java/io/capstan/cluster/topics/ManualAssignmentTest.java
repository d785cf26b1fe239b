package io.capstan.cluster.topics;

import static io.capstan.cluster.topics.ClusterTopics.assignmentProblem;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Kafka's rules for a topic created with its replicas named (kafka-topics --replica-assignment). */
class ManualAssignmentTest {
    private static final Set<Integer> REGISTERED = Set.of(0, 1, 2);

    @Test
    void anAssignmentOfRegisteredDistinctBrokersWithOneReplicaCountIsAccepted() {
        assertThat(assignmentProblem(List.of(List.of(0, 1), List.of(1, 2), List.of(2, 0)), REGISTERED)).isNull();
        assertThat(assignmentProblem(List.of(List.of(2)), REGISTERED)).isNull();
    }

    @Test
    void eachBrokenRuleIsNamed() {
        assertThat(assignmentProblem(List.of(), REGISTERED)).isEqualTo("the assignment names no partition");
        assertThat(assignmentProblem(List.of(List.of(0), List.of()), REGISTERED)).isEqualTo("partition 1 has no replica");
        assertThat(assignmentProblem(List.of(List.of(0, 1), List.of(2)), REGISTERED))
                .startsWith("All partitions should have the same number of replicas: partition 1 has 1");
        assertThat(assignmentProblem(List.of(List.of(1, 1)), REGISTERED)).startsWith("Duplicate brokers not allowed in replica assignment: [1, 1]");
        assertThat(assignmentProblem(List.of(List.of(0, 7)), REGISTERED))
                .isEqualTo("The manual partition assignment includes broker 7, but no such broker is registered");
    }
}
