package io.capstan.operator.rebalance;

import io.capstan.cluster.planner.AssignmentPlanner.ShardId;
import io.capstan.cluster.planner.LoadRebalancer.ShardLoad;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;

/**
 * What every broker had counted of each shard's traffic at one moment: the bytes producers appended to it while the
 * broker led it ({@code capstan_shard_produced_bytes_total}) and the bytes consumers read from it
 * ({@code capstan_shard_consumed_bytes_total}), from each broker's Prometheus endpoint. Two samples give each shard's
 * load in bytes a second. Pure.
 */
public record TrafficSample(long atNanos, Map<Integer, Map<ShardId, Counted>> byBroker) {
    static final String PRODUCED = "capstan_shard_produced_bytes_total";
    static final String CONSUMED = "capstan_shard_consumed_bytes_total";
    private static final java.util.regex.Pattern LINE = java.util.regex.Pattern.compile(
            "^(" + PRODUCED + "|" + CONSUMED + ")\\{([^}]*)}\\s+(\\S+)");
    private static final java.util.regex.Pattern LABEL = java.util.regex.Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** One broker's totals for one shard. */
    public record Counted(double produced, double consumed) {}

    /** A broker's totals as its metrics text shows them; lines of other metrics are ignored. */
    public static Map<ShardId, Counted> parse(String metricsText) {
        Map<ShardId, double[]> totals = new TreeMap<>();
        for (String line : metricsText.split("\n")) {
            Matcher m = LINE.matcher(line);
            if (!m.find()) {
                continue;
            }
            String topic = null;
            String partition = null;
            Matcher l = LABEL.matcher(m.group(2));
            while (l.find()) {
                if (l.group(1).equals("topic")) {
                    topic = l.group(2).replace("\\\"", "\"").replace("\\\\", "\\");
                } else if (l.group(1).equals("partition")) {
                    partition = l.group(2);
                }
            }
            if (topic == null || partition == null) {
                continue;
            }
            double value = Double.parseDouble(m.group(3));
            double[] t = totals.computeIfAbsent(new ShardId(topic, Integer.parseInt(partition)), k -> new double[2]);
            t[m.group(1).equals(PRODUCED) ? 0 : 1] = value;
        }
        Map<ShardId, Counted> out = new TreeMap<>();
        totals.forEach((shard, t) -> out.put(shard, new Counted(t[0], t[1])));
        return out;
    }

    /**
     * Each shard's bytes a second between {@code earlier} and this sample, summed over brokers (the leader counts; a
     * leadership change in between splits the bytes between two brokers). A count lower than before restarted with its
     * broker, so all of it is new, as Prometheus' rate() takes it.
     */
    public Map<ShardId, ShardLoad> ratesSince(TrafficSample earlier) {
        double seconds = (atNanos - earlier.atNanos) / 1e9;
        if (!(seconds > 0)) {
            throw new IllegalArgumentException("the earlier sample must be earlier, got " + seconds + " s between them");
        }
        Map<ShardId, double[]> moved = new HashMap<>();
        byBroker.forEach((broker, shards) -> shards.forEach((shard, now) -> {
            Counted before = earlier.byBroker.getOrDefault(broker, Map.of()).get(shard);
            double[] m = moved.computeIfAbsent(shard, k -> new double[2]);
            m[0] += increase(before == null ? 0 : before.produced(), now.produced());
            m[1] += increase(before == null ? 0 : before.consumed(), now.consumed());
        }));
        Map<ShardId, ShardLoad> rates = new TreeMap<>();
        moved.forEach((shard, m) -> rates.put(shard, new ShardLoad(m[0] / seconds, m[1] / seconds)));
        return rates;
    }

    private static double increase(double before, double now) {
        return now >= before ? now - before : now;
    }
}
