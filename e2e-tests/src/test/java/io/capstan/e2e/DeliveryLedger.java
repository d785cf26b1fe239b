package io.capstan.e2e;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What each group member was handed of each partition, period of ownership by period. The tests' topics have neither
 * compaction nor transactions, so a partition's offsets are contiguous: within one period a record past the one expected
 * next is one the broker's fetch skipped, and a period that starts past where the previous one ended points at the
 * committed offset the member started from. When acknowledged records go missing, the periods of their partition say
 * which of the two it was.
 */
final class DeliveryLedger {
    /** One member's uninterrupted ownership of a partition: the first and last offsets it was handed, and any skips. */
    static final class Period {
        final String member;
        long first = -1;
        long last = -1;
        final List<String> skips = new ArrayList<>();

        Period(String member) {
            this.member = member;
        }

        @Override
        public String toString() {
            return member + " [" + first + ".." + last + "]" + (skips.isEmpty() ? "" : " skipped " + skips);
        }
    }

    private final Map<Integer, List<Period>> periods = new TreeMap<>();
    private final Map<String, Map<Integer, Period>> open = new HashMap<>();
    private final List<String> skips = new ArrayList<>();

    synchronized void assigned(String member, Collection<Integer> partitions) {
        for (int p : partitions) {
            Period period = new Period(member);
            open.computeIfAbsent(member, m -> new HashMap<>()).put(p, period);
            periods.computeIfAbsent(p, k -> new ArrayList<>()).add(period);
        }
    }

    synchronized void released(String member, Collection<Integer> partitions) {
        Map<Integer, Period> mine = open.get(member);
        if (mine != null) {
            partitions.forEach(mine::remove);
        }
    }

    /** A record the member was handed; one of a partition it was not told it owns starts a period of its own. */
    synchronized void delivered(String member, int partition, long offset) {
        Period period = open.computeIfAbsent(member, m -> new HashMap<>()).get(partition);
        if (period == null) {
            assigned(member, List.of(partition));
            period = open.get(member).get(partition);
        }
        if (period.last >= 0 && offset != period.last + 1) {
            String skip = "p" + partition + ": " + member + " was handed offset " + offset + " after " + period.last;
            period.skips.add(offset - period.last - 1 + " at " + (period.last + 1));
            skips.add(skip);
        }
        if (period.first < 0) {
            period.first = offset;
        }
        period.last = offset;
    }

    /** Every offset a fetch skipped within one member's uninterrupted ownership. */
    synchronized List<String> skips() {
        return List.copyOf(skips);
    }

    /** The partition's periods, oldest first, at most the last {@code max}. */
    synchronized String describe(int partition, int max) {
        List<Period> all = periods.getOrDefault(partition, List.of());
        List<Period> shown = all.subList(Math.max(0, all.size() - max), all.size());
        return "p" + partition + " (" + all.size() + " periods, last " + shown.size() + "): " + shown;
    }
}
