package io.capstan.operator.nodes;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.cluster.metadata.ShardState;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class NodeLossPlanTest {
    static final long NOW = 1_000_000;
    static final NodeLossPlan.Policy RELEASE = new NodeLossPlan.Policy(60_000, true);
    static final NodeLossPlan.Policy KEEP = new NodeLossPlan.Policy(60_000, false);

    static NodeLossPlan.Broker lost(int id, long downMs, boolean local) {
        return new NodeLossPlan.Broker(id, "c-" + id, "node-" + id, NOW - downMs, "data-c-" + id, local ? "node-" + id : null);
    }

    static ShardState shard(int partition, List<Integer> replicas, List<Integer> isr) {
        return new ShardState("t", partition, replicas, isr.isEmpty() ? -1 : isr.get(0), 3, isr, List.of(), List.of());
    }

    static final List<ShardState> HEALTHY_ELSEWHERE = List.of(shard(0, List.of(0, 1, 2), List.of(1, 2)), shard(1, List.of(2, 0, 1), List.of(2, 1)));

    @Test
    void withoutAPolicyNothingIsEverReplaced() {
        var d = NodeLossPlan.decide(null, List.of(lost(0, 3_600_000, false)), HEALTHY_ELSEWHERE, Set.of(1, 2), NOW);
        assertThat(d.replace()).isNull();
        assertThat(d.waiting()).isEmpty();
        assertThat(d.recheckInMs()).isNull();
    }

    @Test
    void aNodeDownForLessThanTheGraceIsWaitedForAndLookedAtAgainWhenItEnds() {
        var d = NodeLossPlan.decide(RELEASE, List.of(lost(0, 45_000, true)), HEALTHY_ELSEWHERE, Set.of(1, 2), NOW);
        assertThat(d.replace()).isNull();
        assertThat(d.waiting()).isEmpty();
        assertThat(d.recheckInMs()).isEqualTo(15_000);
    }

    @Test
    void aBrokerWhoseVolumeCanFollowItIsReplacedWithItsVolume() {
        var d = NodeLossPlan.decide(KEEP, List.of(lost(0, 60_000, false)), HEALTHY_ELSEWHERE, Set.of(1, 2), NOW);
        assertThat(d.replace()).isEqualTo(new NodeLossPlan.Replace("c-0", null,
                "node node-0 not Ready for 60 s; broker 0 is started elsewhere with its volume"));
    }

    @Test
    void aLocalVolumeIsKeptUnlessReleasingIsAllowed() {
        var d = NodeLossPlan.decide(KEEP, List.of(lost(0, 120_000, true)), HEALTHY_ELSEWHERE, Set.of(1, 2), NOW);
        assertThat(d.replace()).isNull();
        assertThat(d.waiting()).singleElement().asString().contains("data-c-0 is local to that node")
                .contains("spec.nodeLoss.releaseLocalVolumes");
    }

    @Test
    void aLocalVolumeIsReleasedWhenEveryShardHasAnInSyncCopyOnALiveBroker() {
        var d = NodeLossPlan.decide(RELEASE, List.of(lost(0, 120_000, true)), HEALTHY_ELSEWHERE, Set.of(1, 2), NOW);
        assertThat(d.replace().pod()).isEqualTo("c-0");
        assertThat(d.replace().releaseClaim()).isEqualTo("data-c-0");
        assertThat(d.replace().reason()).contains("new volume");
    }

    @Test
    void aLocalVolumeThatMayHoldTheLastInSyncCopyIsKept() {
        List<ShardState> shards = List.of(shard(0, List.of(0, 1, 2), List.of(0)), shard(1, List.of(0, 1, 2), List.of(0, 2)));
        // shard 1's other in-sync replica (2) is not alive either
        var d = NodeLossPlan.decide(RELEASE, List.of(lost(0, 120_000, true)), shards, Set.of(1), NOW);
        assertThat(d.replace()).isNull();
        assertThat(d.waiting()).singleElement().asString().contains("only in-sync copy of t-0, t-1");
        assertThat(d.recheckInMs()).isEqualTo(10_000);
    }

    @Test
    void oneBrokerIsReplacedPerPassLowestIdFirst() {
        var d = NodeLossPlan.decide(RELEASE, List.of(lost(2, 120_000, false), lost(1, 120_000, false)), HEALTHY_ELSEWHERE, Set.of(0), NOW);
        assertThat(d.replace().pod()).isEqualTo("c-1");
    }

    @Test
    void aVolumePinnedToAnotherNodeThanTheLostOneIsNotTreatedAsLost() {
        var b = new NodeLossPlan.Broker(0, "c-0", "node-0", NOW - 120_000, "data-c-0", "node-9");
        assertThat(NodeLossPlan.decide(KEEP, List.of(b), HEALTHY_ELSEWHERE, Set.of(1, 2), NOW).replace().releaseClaim()).isNull();
    }

    @Test
    void aLocalVolumeIsOneWhoseRequiredAffinityNamesOneHost() {
        var local = new PersistentVolumeBuilder().withNewSpec().withNewNodeAffinity().withNewRequired().addNewNodeSelectorTerm()
                .addNewMatchExpression().withKey("kubernetes.io/hostname").withOperator("In").withValues("node-a").endMatchExpression()
                .endNodeSelectorTerm().endRequired().endNodeAffinity().endSpec().build();
        var zonal = new PersistentVolumeBuilder().withNewSpec().withNewNodeAffinity().withNewRequired().addNewNodeSelectorTerm()
                .addNewMatchExpression().withKey("topology.kubernetes.io/zone").withOperator("In").withValues("a").endMatchExpression()
                .endNodeSelectorTerm().endRequired().endNodeAffinity().endSpec().build();
        assertThat(NodeLoss.pinnedNode(local)).isEqualTo("node-a");
        assertThat(NodeLoss.pinnedNode(zonal)).isNull();
        assertThat(NodeLoss.pinnedNode(new PersistentVolumeBuilder().withNewSpec().endSpec().build())).isNull();
    }

    @Test
    void aNodeIsLostSinceItsReadyConditionLeftTrue() {
        var pod = new PodBuilder().withNewStatus().addNewCondition().withType("Ready").withStatus("False")
                .withLastTransitionTime("1970-01-01T00:10:00Z").endCondition().endStatus().build();
        var unknown = new NodeBuilder().withNewStatus().addNewCondition().withType("Ready").withStatus("Unknown")
                .withLastTransitionTime("1970-01-01T00:05:00Z").endCondition().endStatus().build();
        var ready = new NodeBuilder().withNewStatus().addNewCondition().withType("Ready").withStatus("True")
                .withLastTransitionTime("1970-01-01T00:05:00Z").endCondition().endStatus().build();
        assertThat(NodeLoss.notReadySince(unknown, pod, NOW)).isEqualTo(300_000);
        assertThat(NodeLoss.notReadySince(ready, pod, NOW)).isNull();
        assertThat(NodeLoss.notReadySince(null, pod, NOW)).as("a deleted node: since the pod stopped being ready").isEqualTo(600_000);
    }

    /** Whatever the cluster: a released volume never holds the last in-sync copy; nothing is replaced before its grace. */
    @Property(tries = 500)
    void neverReleasesTheLastInSyncCopyNorActsBeforeTheGrace(@ForAll("clusters") Scenario s) {
        var d = NodeLossPlan.decide(s.policy(), s.brokers(), s.shards(), s.alive(), NOW);
        if (d.replace() == null) {
            return;
        }
        NodeLossPlan.Broker b = s.brokers().stream().filter(x -> x.pod().equals(d.replace().pod())).findFirst().orElseThrow();
        assertThat(NOW - b.nodeNotReadySinceMs()).isGreaterThanOrEqualTo(s.policy().afterMs());
        if (d.replace().releaseClaim() != null) {
            assertThat(s.policy().releaseLocalVolumes()).isTrue();
            for (ShardState shard : s.shards()) {
                if (shard.replicas().contains(b.id())) {
                    assertThat(shard.isr().stream().anyMatch(r -> r != b.id() && s.alive().contains(r)))
                            .as("shard %s keeps an in-sync copy on a live broker", shard).isTrue();
                }
            }
        }
    }

    record Scenario(NodeLossPlan.Policy policy, List<NodeLossPlan.Broker> brokers, List<ShardState> shards, Set<Integer> alive) {}

    @Provide
    Arbitrary<Scenario> clusters() {
        Arbitrary<NodeLossPlan.Policy> policy = Arbitraries.longs().between(0, 300_000).flatMap(after ->
                Arbitraries.of(true, false).map(release -> new NodeLossPlan.Policy(after, release)));
        return policy.flatMap(p -> Arbitraries.integers().between(1, 5).flatMap(n -> {
            Arbitrary<List<Long>> downs = Arbitraries.longs().between(-1, 600_000).list().ofSize(n);
            Arbitrary<List<Boolean>> local = Arbitraries.of(true, false).list().ofSize(n);
            Arbitrary<List<List<Integer>>> isrs = Arbitraries.integers().between(0, n - 1).set().ofMaxSize(3)
                    .map(ArrayList::new).map(l -> (List<Integer>) l).list().ofMinSize(1).ofMaxSize(6);
            Arbitrary<Set<Integer>> alive = Arbitraries.integers().between(0, n - 1).set();
            return net.jqwik.api.Combinators.combine(downs, local, isrs, alive).as((d, l, isr, a) -> {
                List<NodeLossPlan.Broker> brokers = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    if (d.get(i) >= 0) {
                        brokers.add(lost(i, d.get(i), l.get(i)));
                    }
                }
                List<ShardState> shards = new ArrayList<>();
                List<Integer> all = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    all.add(i);
                }
                for (int i = 0; i < isr.size(); i++) {
                    shards.add(shard(i, all, isr.get(i)));
                }
                return new Scenario(p, brokers, shards, new HashSet<>(a));
            });
        }));
    }
}
