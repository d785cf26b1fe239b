package io.capstan.console;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The last {@code capacity} snapshots' figures over time, for the console's charts: each topic's produce rate (records
 * a second between two snapshots, from the growth of its partitions' end offsets) and each group's total lag.
 */
public final class History {
    /** One sample: when, each topic's summed end offsets, each group's total lag. */
    private record Sample(long atMs, Map<String, Long> topicEnds, Map<String, Long> groupLag) {}

    /** The charts' data: sample times, and per topic and group one value per time (null: not there then). */
    public record Series(List<Long> times, Map<String, List<Double>> topicRecordsPerSecond, Map<String, List<Long>> groupLag) {}

    private final int capacity;
    private final ArrayDeque<Sample> samples = new ArrayDeque<>();

    public History(int capacity) {
        this.capacity = capacity;
    }

    public synchronized void add(Snapshot s) {
        Map<String, Long> ends = new LinkedHashMap<>();
        s.topics().forEach(t -> ends.put(t.name(), t.partitions().stream().mapToLong(Snapshot.Partition::endOffset).sum()));
        Map<String, Long> lag = new LinkedHashMap<>();
        s.groups().forEach(g -> lag.put(g.groupId(), g.totalLag()));
        samples.addLast(new Sample(s.takenAtMs(), ends, lag));
        while (samples.size() > capacity) {
            samples.removeFirst();
        }
    }

    /** Rates start at the second sample: the first has nothing before it to compare with. */
    public synchronized Series series() {
        List<Sample> list = new ArrayList<>(samples);
        TreeSet<String> topics = new TreeSet<>();
        TreeSet<String> groups = new TreeSet<>();
        list.forEach(s -> {
            topics.addAll(s.topicEnds().keySet());
            groups.addAll(s.groupLag().keySet());
        });
        List<Long> times = new ArrayList<>();
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        Map<String, List<Long>> lags = new LinkedHashMap<>();
        topics.forEach(t -> rates.put(t, new ArrayList<>()));
        groups.forEach(g -> lags.put(g, new ArrayList<>()));
        for (int i = 1; i < list.size(); i++) {
            Sample before = list.get(i - 1);
            Sample now = list.get(i);
            times.add(now.atMs());
            double seconds = Math.max(0.001, (now.atMs() - before.atMs()) / 1000.0);
            for (String t : topics) {
                Long a = before.topicEnds().get(t);
                Long b = now.topicEnds().get(t);
                rates.get(t).add(a == null || b == null ? null : Math.max(0, b - a) / seconds);
            }
            for (String g : groups) {
                lags.get(g).add(now.groupLag().get(g));
            }
        }
        return new Series(times, rates, lags);
    }
}
