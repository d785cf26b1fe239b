package io.capstan.cluster.planner;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Where each shard's replicas should live: pure, deterministic, and cheap to move to. Given the brokers (with racks),
 * the current assignment and each shard's replication factor, it keeps every replica it can, drops those on brokers
 * that are gone or over their share, fills shards from the least-loaded brokers on racks the shard does not use yet,
 * and then picks leaders (the first replica) so that leadership is spread as evenly as the replicas allow.
 * The operator uses it on scale out (new brokers receive replicas), scale in (replicas drain off leaving brokers) and
 * to repair under-replicated assignments; reassignments then move the data.
 */
public final class AssignmentPlanner {
    private AssignmentPlanner() {}

    public record Broker(int id, String rack) {}

    /** A shard by topic and partition; ordered so plans do not depend on map iteration order. */
    public record ShardId(String topic, int partition) implements Comparable<ShardId> {
        @Override
        public int compareTo(ShardId o) {
            int c = topic.compareTo(o.topic);
            return c != 0 ? c : Integer.compare(partition, o.partition);
        }
    }

    /**
     * The new assignment: for every shard, {@code replicationFactor} distinct brokers (fewer only when there are
     * fewer brokers), leader first. {@code current} may be empty for new shards.
     */
    public static Map<ShardId, List<Integer>> plan(List<Broker> brokers, Map<ShardId, List<Integer>> current,
                                                    Map<ShardId, Integer> replicationFactor) {
        Map<Integer, String> rackOf = new TreeMap<>();
        brokers.forEach(b -> rackOf.put(b.id(), b.rack() == null ? "" : b.rack()));
        List<Integer> ids = new ArrayList<>(rackOf.keySet());
        TreeMap<ShardId, List<Integer>> plan = new TreeMap<>();
        replicationFactor.keySet().forEach(s -> plan.put(s, new ArrayList<>()));
        if (ids.isEmpty()) {
            return freeze(plan);
        }
        Map<Integer, Integer> load = new HashMap<>();
        ids.forEach(id -> load.put(id, 0));

        // keep what is still valid: live brokers, distinct, within the shard's factor, one per rack while racks are unused
        for (ShardId shard : plan.keySet()) {
            int want = Math.min(replicationFactor.get(shard), ids.size());
            List<Integer> kept = plan.get(shard);
            Set<String> racks = new HashSet<>();
            int neededRacks = Math.min(want, distinctRacks(rackOf));
            for (int b : current.getOrDefault(shard, List.of())) {
                if (kept.size() >= want || !rackOf.containsKey(b) || kept.contains(b)) {
                    continue;
                }
                // a second replica on a rack is kept only if the slots left can still reach every rack needed
                int racksWith = racks.size() + (racks.contains(rackOf.get(b)) ? 0 : 1);
                if (want - (kept.size() + 1) >= neededRacks - racksWith) {
                    kept.add(b);
                    racks.add(rackOf.get(b));
                    load.merge(b, 1, Integer::sum);
                }
            }
        }
        // fill from the least-loaded brokers, preferring racks the shard does not use yet
        for (ShardId shard : plan.keySet()) {
            int want = Math.min(replicationFactor.get(shard), ids.size());
            List<Integer> replicas = plan.get(shard);
            while (replicas.size() < want) {
                Set<String> used = new HashSet<>();
                replicas.forEach(r -> used.add(rackOf.get(r)));
                int pick = ids.stream().filter(b -> !replicas.contains(b))
                        .min(Comparator.<Integer>comparingInt(b -> used.contains(rackOf.get(b)) ? 1 : 0)
                                .thenComparingInt(load::get).thenComparingInt(b -> b))
                        .orElseThrow();
                replicas.add(pick);
                load.merge(pick, 1, Integer::sum);
            }
        }
        balance(plan, ids, rackOf, load);
        chooseLeaders(plan, current, ids);
        return freeze(plan);
    }

    /** Moves replicas from the most to the least loaded brokers until loads differ by at most one, never breaking rack spread. */
    private static void balance(TreeMap<ShardId, List<Integer>> plan, List<Integer> ids, Map<Integer, String> rackOf,
                                Map<Integer, Integer> load) {
        for (int guard = 0; guard < 100_000; guard++) {
            int most = ids.stream().max(Comparator.<Integer>comparingInt(load::get).thenComparingInt(b -> -b)).orElseThrow();
            int least = ids.stream().min(Comparator.<Integer>comparingInt(load::get).thenComparingInt(b -> b)).orElseThrow();
            if (load.get(most) - load.get(least) <= 1) {
                return;
            }
            boolean moved = false;
            for (Map.Entry<ShardId, List<Integer>> e : plan.entrySet()) {
                List<Integer> replicas = e.getValue();
                int at = replicas.indexOf(most);
                if (at < 0 || replicas.contains(least) || !rackSpreadKept(replicas, at, least, rackOf)) {
                    continue;
                }
                replicas.set(at, least);
                load.merge(most, -1, Integer::sum);
                load.merge(least, 1, Integer::sum);
                moved = true;
                break;
            }
            if (!moved) {
                return; // rack spread forbids any further move
            }
        }
    }

    private static boolean rackSpreadKept(List<Integer> replicas, int replaced, int with, Map<Integer, String> rackOf) {
        Set<String> before = new HashSet<>();
        replicas.forEach(r -> before.add(rackOf.get(r)));
        Set<String> after = new HashSet<>();
        for (int i = 0; i < replicas.size(); i++) {
            after.add(rackOf.get(i == replaced ? with : replicas.get(i)));
        }
        return after.size() >= before.size();
    }

    /**
     * Leaders: the current one where it is still a replica, a replica leading least for the others, then leadership
     * moves one shard at a time from the broker leading most to a replica leading at least two fewer, until none can.
     * A plan fed back in is therefore left as it is.
     */
    private static void chooseLeaders(TreeMap<ShardId, List<Integer>> plan, Map<ShardId, List<Integer>> current, List<Integer> ids) {
        Map<Integer, Integer> leads = new HashMap<>();
        ids.forEach(id -> leads.put(id, 0));
        Map<ShardId, Integer> leaderOf = new TreeMap<>();
        for (Map.Entry<ShardId, List<Integer>> e : plan.entrySet()) {
            List<Integer> was = current.getOrDefault(e.getKey(), List.of());
            if (!was.isEmpty() && e.getValue().contains(was.get(0))) {
                leaderOf.put(e.getKey(), was.get(0));
                leads.merge(was.get(0), 1, Integer::sum);
            }
        }
        for (Map.Entry<ShardId, List<Integer>> e : plan.entrySet()) {
            if (leaderOf.containsKey(e.getKey()) || e.getValue().isEmpty()) {
                continue;
            }
            int pick = e.getValue().stream().min(Comparator.<Integer>comparingInt(leads::get).thenComparingInt(b -> b)).orElseThrow();
            leaderOf.put(e.getKey(), pick);
            leads.merge(pick, 1, Integer::sum);
        }
        boolean moved = true;
        for (int guard = 0; moved && guard < 100_000; guard++) {
            moved = false;
            for (Map.Entry<ShardId, Integer> e : leaderOf.entrySet()) {
                int leader = e.getValue();
                int better = plan.get(e.getKey()).stream().filter(r -> leads.get(r) + 1 < leads.get(leader))
                        .min(Comparator.<Integer>comparingInt(leads::get).thenComparingInt(b -> b)).orElse(-1);
                if (better >= 0) {
                    e.setValue(better);
                    leads.merge(leader, -1, Integer::sum);
                    leads.merge(better, 1, Integer::sum);
                    moved = true;
                    break;
                }
            }
        }
        leaderOf.forEach((shard, leader) -> {
            List<Integer> replicas = plan.get(shard);
            replicas.remove(leader);
            replicas.add(0, leader);
        });
    }

    private static int distinctRacks(Map<Integer, String> rackOf) {
        return new HashSet<>(rackOf.values()).size();
    }

    private static Map<ShardId, List<Integer>> freeze(TreeMap<ShardId, List<Integer>> plan) {
        Map<ShardId, List<Integer>> out = new TreeMap<>();
        plan.forEach((k, v) -> out.put(k, List.copyOf(v)));
        return out;
    }
}
