package io.capstan.operator.topics;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.operator.spec.SpecProblem;
import io.capstan.operator.topics.TopicPlan.Observed;
import io.capstan.operator.topics.TopicPlan.Plan;
import io.capstan.operator.topics.TopicPlan.Wanted;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class TopicPlanTest {
    private static Wanted wanted(int partitions, Integer rf, Map<String, String> configs) {
        return new Wanted(partitions, rf, configs, false);
    }

    @Test
    void aMissingTopicIsCreatedAsWantedAndNothingElse() {
        Plan p = TopicPlan.decide(wanted(6, 3, Map.of("retention.ms", "60000")), null, Set.of());
        assertThat(p.create()).isTrue();
        assertThat(p.set()).isEqualTo(Map.of("retention.ms", "60000"));
        assertThat(p.growTo()).isZero();
        assertThat(p.refused()).isEmpty();
        assertThat(p.changes()).isTrue();
    }

    @Test
    void aTopicAsWantedNeedsNothing() {
        Plan p = TopicPlan.decide(wanted(6, 3, Map.of("retention.ms", "60000")), new Observed(6, 3, Map.of("retention.ms", "60000")), Set.of("retention.ms"));
        assertThat(p.changes()).isFalse();
        assertThat(p.refused()).isEmpty();
        assertThat(p.drift()).isEmpty();
    }

    @Test
    void morePartitionsAreAddedAndChangedConfigsSet() {
        Plan p = TopicPlan.decide(wanted(8, null, Map.of("retention.ms", "120000", "cleanup.policy", "compact")),
                new Observed(6, 3, Map.of("retention.ms", "60000")), Set.of("retention.ms"));
        assertThat(p.growTo()).isEqualTo(8);
        assertThat(p.set()).isEqualTo(Map.of("retention.ms", "120000", "cleanup.policy", "compact"));
        assertThat(p.remove()).isEmpty();
    }

    @Test
    void fewerPartitionsAreRefusedNamingTheFieldAndTheRestIsStillApplied() {
        Plan p = TopicPlan.decide(wanted(3, null, Map.of("retention.ms", "1000")), new Observed(6, 3, Map.of()), Set.of());
        assertThat(p.growTo()).isZero();
        assertThat(p.refused()).containsExactly(new SpecProblem("spec.partitions", "is 3 but the topic has 6 partitions, and Kafka"
                + " cannot remove partitions; set it back to 6 or more (fewer partitions need a new topic)"));
        assertThat(p.set()).isEqualTo(Map.of("retention.ms", "1000"));
    }

    @Test
    void anotherReplicationFactorIsRefusedButNoneMeansWhateverItHas() {
        Plan p = TopicPlan.decide(wanted(6, 2, Map.of()), new Observed(6, 3, Map.of()), Set.of());
        assertThat(p.refused()).extracting(SpecProblem::field).containsExactly("spec.replicationFactor");
        assertThat(p.refused().get(0).message()).startsWith("is 2 but the topic's partitions have 3 replicas");
        assertThat(TopicPlan.decide(wanted(6, null, Map.of()), new Observed(6, 3, Map.of()), Set.of()).refused()).isEmpty();
    }

    @Test
    void aConfigSetThroughTheKafkaApiIsDriftReportedAndLeft() {
        Plan p = TopicPlan.decide(wanted(6, null, Map.of("retention.ms", "60000")),
                new Observed(6, 3, Map.of("retention.ms", "60000", "segment.bytes", "1048576")), Set.of("retention.ms"));
        assertThat(p.drift()).isEqualTo(Map.of("segment.bytes", "1048576"));
        assertThat(p.remove()).isEmpty();
        assertThat(p.changes()).isFalse();
    }

    @Test
    void driftIsRevertedWhenTheSpecSaysSo() {
        Plan p = TopicPlan.decide(new Wanted(6, null, Map.of(), true), new Observed(6, 3, Map.of("segment.bytes", "1048576")), Set.of());
        assertThat(p.remove()).containsExactly("segment.bytes");
        assertThat(p.drift()).isEmpty();
    }

    @Test
    void aConfigRemovedFromTheSpecIsRemovedFromTheTopicNotReportedAsDrift() {
        Plan p = TopicPlan.decide(wanted(6, null, Map.of()), new Observed(6, 3, Map.of("retention.ms", "60000")), Set.of("retention.ms"));
        assertThat(p.remove()).containsExactly("retention.ms");
        assertThat(p.drift()).isEmpty();
    }

    @Test
    void aSpecValueChangedThroughTheKafkaApiIsSetBack() {
        Plan p = TopicPlan.decide(wanted(6, null, Map.of("retention.ms", "60000")), new Observed(6, 3, Map.of("retention.ms", "5")), Set.of("retention.ms"));
        assertThat(p.set()).isEqualTo(Map.of("retention.ms", "60000"));
    }

    /** Applying a plan to the topic as Kafka would (only what Kafka can do) gives a topic that needs nothing more. */
    @Property
    void aPlanCarriedOutLeavesNothingToDoButWhatIsRefusedOrReported(@ForAll("observedTopics") Observed observed,
            @ForAll("wantedTopics") Wanted wanted, @ForAll("appliedKeys") Set<String> applied) {
        Plan plan = TopicPlan.decide(wanted, observed, applied);
        Map<String, String> configs = new HashMap<>(observed.configs());
        configs.putAll(plan.set());
        plan.remove().forEach(configs::remove);
        Observed after = new Observed(Math.max(observed.partitions(), plan.growTo()), observed.replicationFactor(), configs);
        Plan again = TopicPlan.decide(wanted, after, new HashSet<>(wanted.configs().keySet()));
        assertThat(again.changes()).isFalse();
        assertThat(again.refused()).isEqualTo(plan.refused());
        if (plan.growTo() > 0) {
            assertThat(plan.growTo()).as("partitions only grow").isGreaterThan(observed.partitions()).isEqualTo(wanted.partitions());
        }
        for (String key : wanted.configs().keySet()) {
            assertThat(after.configs().get(key)).isEqualTo(wanted.configs().get(key));
        }
        plan.drift().forEach((k, v) -> assertThat(after.configs()).as("drift is reported, not touched").containsEntry(k, v));
        if (wanted.revertDrift()) {
            assertThat(after.configs().keySet()).isSubsetOf(wanted.configs().keySet());
        }
    }

    @Provide
    Arbitrary<Observed> observedTopics() {
        return Arbitraries.integers().between(1, 8).flatMap(p -> Arbitraries.integers().between(1, 3).flatMap(rf ->
                configs().map(c -> new Observed(p, rf, c))));
    }

    @Provide
    Arbitrary<Wanted> wantedTopics() {
        return Arbitraries.integers().between(1, 8).flatMap(p -> Arbitraries.integers().between(1, 3).injectNull(0.5).flatMap(rf ->
                configs().flatMap(c -> Arbitraries.of(true, false).map(revert -> new Wanted(p, rf, c, revert)))));
    }

    @Provide
    Arbitrary<Set<String>> appliedKeys() {
        return Arbitraries.of("retention.ms", "segment.bytes", "cleanup.policy").set();
    }

    private static Arbitrary<Map<String, String>> configs() {
        return Arbitraries.maps(Arbitraries.of("retention.ms", "segment.bytes", "cleanup.policy"), Arbitraries.of("1", "2")).ofMaxSize(3);
    }
}
