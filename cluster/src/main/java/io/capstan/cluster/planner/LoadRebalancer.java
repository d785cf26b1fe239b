package io.capstan.cluster.planner;

import io.capstan.cluster.planner.AssignmentPlanner.Broker;
import io.capstan.cluster.planner.AssignmentPlanner.ShardId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A proposal to even out observed load (issue 18, item 4): pure and deterministic. Each shard's load is what its
 * producers write and its consumers read, in bytes per second. A leader carries the writes, the reads and the copies
 * its followers fetch; a follower carries the writes it copies. From the current assignment the proposal takes one
 * step at a time, each the single change that lowers the spread of broker loads (their sum of squares) the most: a
 * leadership transfer to another replica (no data moves) or a replica moved to a broker that does not hold the shard
 * (its data is copied). It never changes a shard's replica count, never puts two replicas on one broker, never leaves
 * a shard on fewer racks than it had, and never moves the same replica twice. It stops when the busiest broker is
 * within {@code tolerance} of the mean, when no change helps by at least {@code minGain} of the mean load, or after
 * {@code maxMoves} changes.
 */
public final class LoadRebalancer {
    private LoadRebalancer() {}

    /** A shard's observed traffic: bytes per second written by producers and read by consumers. */
    public record ShardLoad(double bytesIn, double bytesOut) {
        public ShardLoad {
            if (!(bytesIn >= 0) || !(bytesOut >= 0)) {
                throw new IllegalArgumentException("shard load must be non-negative, got in " + bytesIn + " out " + bytesOut);
            }
        }
    }

    public record Limits(int maxMoves, double tolerance, double minGain) {
        public static final Limits DEFAULT = new Limits(50, 0.10, 0.01);

        public Limits {
            if (maxMoves < 0 || !(tolerance >= 0) || !(minGain >= 0)) {
                throw new IllegalArgumentException("maxMoves, tolerance and minGain must be non-negative");
            }
        }
    }

    public enum Kind { LEADER, REPLICA }

    /** One change: leadership of {@code shard} from {@code from} to {@code to}, or a replica moved between them. */
    public record Move(ShardId shard, Kind kind, int from, int to) {}

    /** The loads per broker (bytes per second) and their spread. */
    public record Balance(Map<Integer, Double> load) {
        public double max() {
            return load.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
        }

        public double mean() {
            return load.values().stream().mapToDouble(Double::doubleValue).average().orElse(0);
        }

        /** The busiest broker's load over the mean; 1 is perfectly even. */
        public double maxOverMean() {
            double mean = mean();
            return mean == 0 ? 1 : max() / mean;
        }
    }

    public record Proposal(List<Move> moves, Map<ShardId, List<Integer>> assignment, Balance before, Balance after) {}

    public static Proposal propose(List<Broker> brokers, Map<ShardId, List<Integer>> current, Map<ShardId, ShardLoad> loads,
                                   Limits limits) {
        Map<Integer, String> rackOf = new TreeMap<>();
        brokers.forEach(b -> rackOf.put(b.id(), b.rack() == null ? "" : b.rack()));
        TreeMap<ShardId, List<Integer>> plan = new TreeMap<>();
        current.forEach((shard, replicas) -> {
            for (int r : replicas) {
                if (!rackOf.containsKey(r)) {
                    throw new IllegalArgumentException(shard + " has a replica on broker " + r + ", which is not among the brokers");
                }
            }
            if (new HashSet<>(replicas).size() != replicas.size()) {
                throw new IllegalArgumentException(shard + " names a broker twice: " + replicas);
            }
            plan.put(shard, new ArrayList<>(replicas));
        });
        Map<Integer, Double> load = loads(rackOf.keySet(), plan, loads);
        Balance before = new Balance(Map.copyOf(load));
        List<Move> moves = new ArrayList<>();
        Set<Replica> movedReplicas = new HashSet<>();
        while (moves.size() < limits.maxMoves()) {
            Balance now = new Balance(load);
            double mean = now.mean();
            if (mean == 0 || now.max() <= mean * (1 + limits.tolerance())) {
                break;
            }
            Candidate best = best(plan, loads, load, rackOf, movedReplicas);
            if (best == null || best.gain < limits.minGain() * mean * mean) {
                break;
            }
            apply(best.move, plan, loads, load);
            if (best.move.kind() == Kind.REPLICA) {
                movedReplicas.add(new Replica(best.move.shard(), best.move.to()));
            }
            moves.add(best.move);
        }
        Map<ShardId, List<Integer>> frozen = new TreeMap<>();
        plan.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
        return new Proposal(List.copyOf(moves), frozen, before, new Balance(Map.copyOf(load)));
    }

    private record Candidate(Move move, double gain) {}

    /** A shard's replica on one broker. */
    private record Replica(ShardId shard, int broker) {}

    /** The change lowering the sum of squared loads the most; on equal gain a leadership transfer, then the lowest ids. */
    private static Candidate best(TreeMap<ShardId, List<Integer>> plan, Map<ShardId, ShardLoad> loads, Map<Integer, Double> load,
                                  Map<Integer, String> rackOf, Set<Replica> movedReplicas) {
        Candidate best = null;
        for (Map.Entry<ShardId, List<Integer>> e : plan.entrySet()) {
            ShardId shard = e.getKey();
            List<Integer> replicas = e.getValue();
            ShardLoad l = loads.getOrDefault(shard, new ShardLoad(0, 0));
            if (replicas.isEmpty() || l.bytesIn() + l.bytesOut() == 0) {
                continue;
            }
            int leader = replicas.get(0);
            double lead = leaderLoad(l, replicas.size());
            double follow = l.bytesIn();
            for (int to : replicas) {
                if (to != leader) {
                    // the old leader becomes a follower and the follower the leader
                    double gain = gain(load, leader, lead - follow, to, lead - follow);
                    best = better(best, new Candidate(new Move(shard, Kind.LEADER, leader, to), gain));
                }
            }
            for (int i = 0; i < replicas.size(); i++) {
                int from = replicas.get(i);
                if (movedReplicas.contains(new Replica(shard, from))) {
                    continue; // it came here in this proposal: moving it on would copy its data twice
                }
                double carried = i == 0 ? lead : follow;
                for (int to : rackOf.keySet()) {
                    if (replicas.contains(to) || !keepsRackSpread(replicas, i, to, rackOf)) {
                        continue;
                    }
                    double gain = gain(load, from, carried, to, carried);
                    best = better(best, new Candidate(new Move(shard, Kind.REPLICA, from, to), gain));
                }
            }
        }
        return best;
    }

    /** How much moving {@code amount} of load off {@code from} and {@code added} onto {@code to} lowers the sum of squares. */
    private static double gain(Map<Integer, Double> load, int from, double amount, int to, double added) {
        double a = load.get(from);
        double b = load.get(to);
        return a * a + b * b - (a - amount) * (a - amount) - (b + added) * (b + added);
    }

    private static Candidate better(Candidate best, Candidate c) {
        if (c.gain <= 0) {
            return best;
        }
        if (best == null || c.gain > best.gain * (1 + 1e-9)) {
            return c;
        }
        if (c.gain >= best.gain * (1 - 1e-9) && c.move.kind() == Kind.LEADER && best.move.kind() == Kind.REPLICA) {
            return c;
        }
        return best;
    }

    private static boolean keepsRackSpread(List<Integer> replicas, int replaced, int with, Map<Integer, String> rackOf) {
        Set<String> before = new HashSet<>();
        Set<String> after = new HashSet<>();
        for (int i = 0; i < replicas.size(); i++) {
            before.add(rackOf.get(replicas.get(i)));
            after.add(rackOf.get(i == replaced ? with : replicas.get(i)));
        }
        return after.size() >= before.size();
    }

    private static void apply(Move move, TreeMap<ShardId, List<Integer>> plan, Map<ShardId, ShardLoad> loads, Map<Integer, Double> load) {
        List<Integer> replicas = plan.get(move.shard());
        removeLoad(replicas, loads.get(move.shard()), load);
        if (move.kind() == Kind.LEADER) {
            replicas.remove(Integer.valueOf(move.to()));
            replicas.add(0, move.to());
        } else {
            replicas.set(replicas.indexOf(move.from()), move.to());
        }
        addLoad(replicas, loads.get(move.shard()), load);
    }

    /** Each broker's load under {@code plan}: every broker listed, idle ones at 0. */
    public static Map<Integer, Double> loads(Set<Integer> brokers, Map<ShardId, List<Integer>> plan, Map<ShardId, ShardLoad> loads) {
        Map<Integer, Double> load = new HashMap<>();
        brokers.forEach(b -> load.put(b, 0.0));
        plan.forEach((shard, replicas) -> addLoad(replicas, loads.get(shard), load));
        return load;
    }

    private static void addLoad(List<Integer> replicas, ShardLoad l, Map<Integer, Double> load) {
        change(replicas, l, load, 1);
    }

    private static void removeLoad(List<Integer> replicas, ShardLoad l, Map<Integer, Double> load) {
        change(replicas, l, load, -1);
    }

    private static void change(List<Integer> replicas, ShardLoad l, Map<Integer, Double> load, int sign) {
        if (l == null || replicas.isEmpty()) {
            return;
        }
        load.merge(replicas.get(0), sign * leaderLoad(l, replicas.size()), Double::sum);
        for (int i = 1; i < replicas.size(); i++) {
            load.merge(replicas.get(i), sign * l.bytesIn(), Double::sum);
        }
    }

    /** A leader takes the writes in, serves the reads, and sends each follower a copy of the writes. */
    static double leaderLoad(ShardLoad l, int replicas) {
        return l.bytesIn() + l.bytesOut() + l.bytesIn() * (replicas - 1);
    }
}
