package io.capstan.broker.group.modern;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.apache.kafka.common.Uuid;

/** Both server-side assignors over random groups: complete, exclusive, within subscriptions; uniform also even and sticky. */
class AssignorPropertyTest {

    private record Group(List<PartitionAssignor.Member> members, Map<Uuid, PartitionAssignor.Topic> topics) {}

    private static Group group(long seed, int memberCount, int topicCount, boolean sameSubscriptions) {
        Random random = new Random(seed);
        Map<Uuid, PartitionAssignor.Topic> topics = new LinkedHashMap<>();
        for (int t = 0; t < topicCount; t++) {
            Uuid id = new Uuid(seed, t + 1);
            topics.put(id, new PartitionAssignor.Topic(id, "topic-" + t, 1 + random.nextInt(24)));
        }
        List<Uuid> ids = new ArrayList<>(topics.keySet());
        List<PartitionAssignor.Member> members = new ArrayList<>();
        for (int m = 0; m < memberCount; m++) {
            Set<Uuid> subscribed = new HashSet<>();
            for (Uuid id : ids) {
                if (sameSubscriptions || random.nextBoolean()) {
                    subscribed.add(id);
                }
            }
            members.add(new PartitionAssignor.Member("member-" + m, null, null, subscribed));
        }
        return new Group(members, topics);
    }

    private static void assertValid(Group g, Map<String, Assignment> result) {
        assertThat(result.keySet()).containsExactlyInAnyOrderElementsOf(g.members().stream().map(PartitionAssignor.Member::memberId).toList());
        Map<String, Set<Uuid>> subscriptions = new HashMap<>();
        g.members().forEach(m -> subscriptions.put(m.memberId(), m.topics()));
        for (PartitionAssignor.Topic topic : g.topics().values()) {
            boolean subscribed = g.members().stream().anyMatch(m -> m.topics().contains(topic.id()));
            for (int p = 0; p < topic.partitions(); p++) {
                int partition = p;
                List<String> owners = result.entrySet().stream().filter(e -> e.getValue().contains(topic.id(), partition))
                        .map(Map.Entry::getKey).toList();
                assertThat(owners).as("owners of %s-%d", topic.name(), p).hasSize(subscribed ? 1 : 0);
                owners.forEach(o -> assertThat(subscriptions.get(o)).contains(topic.id()));
            }
        }
        result.values().forEach(a -> a.partitions().forEach((t, ps) -> assertThat(ps).allMatch(p -> p < g.topics().get(t).partitions())));
    }

    /** Even as the subscriptions allow: a member never holds two more than another that could take one of its partitions. */
    private static void assertNoMemberCouldRelieveAnother(Group g, Map<String, Assignment> result) {
        for (PartitionAssignor.Member x : g.members()) {
            for (PartitionAssignor.Member y : g.members()) {
                Assignment xs = result.get(x.memberId());
                if (xs.size() >= result.get(y.memberId()).size() + 2) {
                    assertThat(xs.partitions().keySet()).as("%s could give %s a partition", x.memberId(), y.memberId())
                            .noneMatch(y.topics()::contains);
                }
            }
        }
    }

    private static int spread(Map<String, Assignment> result) {
        int max = result.values().stream().mapToInt(Assignment::size).max().orElse(0);
        int min = result.values().stream().mapToInt(Assignment::size).min().orElse(0);
        return max - min;
    }

    @Property(tries = 300)
    void uniformIsCompleteExclusiveAndWithinSubscriptions(@ForAll long seed, @ForAll @IntRange(min = 1, max = 12) int members,
                                                          @ForAll @IntRange(min = 1, max = 5) int topics) {
        Group g = group(seed, members, topics, false);
        Map<String, Assignment> first = new UniformAssignor().assign(g.members(), g.topics(), Map.of());
        assertValid(g, first);
        assertNoMemberCouldRelieveAnother(g, first);
        // and from any previous assignment, however stale (members and partitions that no longer exist)
        Group other = group(seed + 1, members + 2, topics, false);
        Map<String, Assignment> stale = new UniformAssignor().assign(other.members(), g.topics(), Map.of());
        assertValid(g, new UniformAssignor().assign(g.members(), g.topics(), stale));
    }

    @Property(tries = 300)
    void uniformWithTheSameSubscriptionsIsEvenStickyAndMovesOnlyToANewMember(@ForAll long seed,
                                                                             @ForAll @IntRange(min = 1, max = 12) int members,
                                                                             @ForAll @IntRange(min = 1, max = 5) int topics) {
        Group g = group(seed, members, topics, true);
        UniformAssignor uniform = new UniformAssignor();
        Map<String, Assignment> first = uniform.assign(g.members(), g.topics(), Map.of());
        assertValid(g, first);
        assertThat(spread(first)).isLessThanOrEqualTo(1);
        assertThat(uniform.assign(g.members(), g.topics(), first)).as("same input, same answer").isEqualTo(first);

        List<PartitionAssignor.Member> grown = new ArrayList<>(g.members());
        grown.add(new PartitionAssignor.Member("member-new", null, null, g.members().get(0).topics()));
        Group bigger = new Group(grown, g.topics());
        Map<String, Assignment> next = uniform.assign(grown, g.topics(), first);
        assertValid(bigger, next);
        assertThat(spread(next)).isLessThanOrEqualTo(1);
        for (PartitionAssignor.Member m : g.members()) {
            // an existing member only gives partitions up (to the newcomer), never receives any
            assertThat(next.get(m.memberId()).subsetOf(first.get(m.memberId()))).as(m.memberId()).isTrue();
        }
    }

    @Property(tries = 300)
    void rangeIsCompleteExclusiveAndCoPartitioned(@ForAll long seed, @ForAll @IntRange(min = 1, max = 12) int members,
                                                  @ForAll @IntRange(min = 1, max = 5) int topics) {
        Group g = group(seed, members, topics, false);
        Map<String, Assignment> result = new RangeAssignor().assign(g.members(), g.topics(), Map.of());
        assertValid(g, result);
        // members subscribed to the same topics with the same partition counts get the same partition numbers of each
        List<PartitionAssignor.Topic> list = new ArrayList<>(g.topics().values());
        for (int i = 0; i < list.size(); i++) {
            for (int j = i + 1; j < list.size(); j++) {
                PartitionAssignor.Topic a = list.get(i);
                PartitionAssignor.Topic b = list.get(j);
                boolean sameSubscribers = g.members().stream().allMatch(m -> m.topics().contains(a.id()) == m.topics().contains(b.id()));
                if (sameSubscribers && a.partitions() == b.partitions()) {
                    result.values().forEach(x -> assertThat(x.of(a.id())).isEqualTo(x.of(b.id())));
                }
            }
        }
    }
}
