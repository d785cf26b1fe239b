package io.capstan.broker.group.modern;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.Uuid;

/**
 * Kafka's default "uniform": as even as the subscriptions allow and sticky. Each member keeps what it had that it
 * still subscribes to; unowned partitions go to the least loaded member subscribed to their topic; then partitions
 * move one at a time from the most to the least loaded member that can take them until no member holds two more than
 * another it could give to. Each move lowers the sum of squared loads, so it ends; with identical subscriptions the
 * loads differ by at most one. Racks are not considered.
 */
public final class UniformAssignor implements PartitionAssignor {
    public static final String NAME = "uniform";

    private record Slot(Uuid topic, String topicName, int partition) implements Comparable<Slot> {
        @Override
        public int compareTo(Slot o) {
            int byName = topicName.compareTo(o.topicName);
            return byName != 0 ? byName : Integer.compare(partition, o.partition);
        }
    }

    private static final class Load {
        final Member member;
        final TreeSet<Slot> slots = new TreeSet<>();

        Load(Member member) {
            this.member = member;
        }

        boolean takes(Slot s) {
            return member.topics().contains(s.topic);
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Assignment> assign(List<Member> members, Map<Uuid, Topic> topics, Map<String, Assignment> previous) {
        List<Load> loads = new ArrayList<>(members.stream().map(Load::new).toList());
        loads.sort(Comparator.comparing(l -> l.member.memberId()));
        Set<Slot> taken = new java.util.HashSet<>();
        for (Load load : loads) {
            previous.getOrDefault(load.member.memberId(), Assignment.EMPTY).partitions().forEach((topicId, ps) -> {
                Topic topic = topics.get(topicId);
                if (topic == null || !load.member.topics().contains(topicId)) {
                    return;
                }
                for (int p : ps) {
                    Slot s = new Slot(topicId, topic.name(), p);
                    if (p < topic.partitions() && taken.add(s)) {
                        load.slots.add(s);
                    }
                }
            });
        }
        List<Topic> byName = new ArrayList<>(topics.values());
        byName.sort(Comparator.comparing(Topic::name));
        for (Topic topic : byName) {
            for (int p = 0; p < topic.partitions(); p++) {
                Slot s = new Slot(topic.id(), topic.name(), p);
                if (taken.contains(s)) {
                    continue;
                }
                Load least = null;
                for (Load l : loads) {
                    if (l.takes(s) && (least == null || l.slots.size() < least.slots.size())) {
                        least = l;
                    }
                }
                if (least != null) {
                    least.slots.add(s);
                    taken.add(s);
                }
            }
        }
        while (moveOne(loads)) {
            // each move makes the loads more even
        }
        Map<String, Assignment> result = new HashMap<>();
        for (Load l : loads) {
            Map<Uuid, TreeSet<Integer>> parts = new TreeMap<>();
            l.slots.forEach(s -> parts.computeIfAbsent(s.topic, t -> new TreeSet<>()).add(s.partition));
            result.put(l.member.memberId(), Assignment.of(parts));
        }
        return result;
    }

    /** Moves one partition from a more loaded member to one holding at least two fewer that can take it; false if none can. */
    private static boolean moveOne(List<Load> loads) {
        List<Load> ascending = new ArrayList<>(loads);
        ascending.sort(Comparator.<Load>comparingInt(l -> l.slots.size()).thenComparing(l -> l.member.memberId()));
        for (int hi = ascending.size() - 1; hi > 0; hi--) {
            Load from = ascending.get(hi);
            for (int lo = 0; lo < hi; lo++) {
                Load to = ascending.get(lo);
                if (to.slots.size() + 1 >= from.slots.size()) {
                    break;
                }
                for (Slot s : from.slots.descendingSet()) {
                    if (to.takes(s)) {
                        from.slots.remove(s);
                        to.slots.add(s);
                        return true;
                    }
                }
            }
        }
        return false;
    }
}
