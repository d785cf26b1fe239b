package io.capstan.broker.group.modern;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiPredicate;
import org.apache.kafka.common.Uuid;

/**
 * Partitions by topic id, as the consumer protocol names them. Immutable; the maps are sorted so that answers and
 * logs come out in the same order every time. An empty topic entry is never kept.
 */
public record Assignment(Map<Uuid, SortedSet<Integer>> partitions) {
    public static final Assignment EMPTY = new Assignment(Map.of());

    public Assignment {
        TreeMap<Uuid, SortedSet<Integer>> copy = new TreeMap<>();
        partitions.forEach((topic, ps) -> {
            if (!ps.isEmpty()) {
                copy.put(topic, Collections.unmodifiableSortedSet(new TreeSet<>(ps)));
            }
        });
        partitions = Collections.unmodifiableMap(copy);
    }

    public static Assignment of(Map<Uuid, ? extends Set<Integer>> partitions) {
        TreeMap<Uuid, SortedSet<Integer>> sorted = new TreeMap<>();
        partitions.forEach((t, ps) -> sorted.put(t, new TreeSet<>(ps)));
        return new Assignment(sorted);
    }

    public boolean isEmpty() {
        return partitions.isEmpty();
    }

    public int size() {
        return partitions.values().stream().mapToInt(Set::size).sum();
    }

    public boolean contains(Uuid topic, int partition) {
        SortedSet<Integer> ps = partitions.get(topic);
        return ps != null && ps.contains(partition);
    }

    public Set<Integer> of(Uuid topic) {
        return partitions.getOrDefault(topic, Collections.emptySortedSet());
    }

    /** The partitions of this assignment that {@code keep} accepts. */
    public Assignment filter(BiPredicate<Uuid, Integer> keep) {
        TreeMap<Uuid, SortedSet<Integer>> out = new TreeMap<>();
        partitions.forEach((topic, ps) -> ps.stream().filter(p -> keep.test(topic, p))
                .forEach(p -> out.computeIfAbsent(topic, t -> new TreeSet<>()).add(p)));
        return new Assignment(out);
    }

    public Assignment intersect(Assignment other) {
        return filter(other::contains);
    }

    public Assignment minus(Assignment other) {
        return filter((t, p) -> !other.contains(t, p));
    }

    public Assignment plus(Assignment other) {
        TreeMap<Uuid, SortedSet<Integer>> out = new TreeMap<>();
        partitions.forEach((t, ps) -> out.computeIfAbsent(t, x -> new TreeSet<>()).addAll(ps));
        other.partitions.forEach((t, ps) -> out.computeIfAbsent(t, x -> new TreeSet<>()).addAll(ps));
        return new Assignment(out);
    }

    /** True when some partition is in both. */
    public boolean overlaps(Assignment other) {
        for (var e : partitions.entrySet()) {
            Set<Integer> theirs = other.of(e.getKey());
            for (int p : e.getValue()) {
                if (theirs.contains(p)) {
                    return true;
                }
            }
        }
        return false;
    }

    public boolean subsetOf(Assignment other) {
        return minus(other).isEmpty();
    }

    @Override
    public String toString() {
        return partitions.toString();
    }
}
