package io.capstan.broker.group.modern;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.Uuid;

/**
 * Kafka's "range": per topic, the subscribed members in member-id order take consecutive ranges of partitions, the
 * first ones one more when the count does not divide. Members subscribed to the same topics get the same partition
 * numbers of each (co-partitioning, what joins in Kafka Streams-like applications rely on). Not sticky.
 */
public final class RangeAssignor implements PartitionAssignor {
    public static final String NAME = "range";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Assignment> assign(List<Member> members, Map<Uuid, Topic> topics, Map<String, Assignment> previous) {
        Map<String, Map<Uuid, TreeSet<Integer>>> out = new HashMap<>();
        members.forEach(m -> out.put(m.memberId(), new TreeMap<>()));
        for (Topic topic : topics.values()) {
            List<Member> subscribed = new ArrayList<>(members.stream().filter(m -> m.topics().contains(topic.id())).toList());
            if (subscribed.isEmpty()) {
                continue;
            }
            subscribed.sort(Comparator.comparing(Member::memberId));
            int each = topic.partitions() / subscribed.size();
            int extra = topic.partitions() % subscribed.size();
            int next = 0;
            for (int i = 0; i < subscribed.size(); i++) {
                int count = each + (i < extra ? 1 : 0);
                TreeSet<Integer> mine = out.get(subscribed.get(i).memberId()).computeIfAbsent(topic.id(), t -> new TreeSet<>());
                for (int p = next; p < next + count; p++) {
                    mine.add(p);
                }
                next += count;
            }
        }
        Map<String, Assignment> result = new HashMap<>();
        out.forEach((member, parts) -> result.put(member, Assignment.of(parts)));
        return result;
    }
}
