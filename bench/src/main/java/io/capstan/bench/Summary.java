package io.capstan.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** Median, min and max of each metric per broker over the repetitions. */
public final class Summary {
    public record Spread(double median, double min, double max, int n) {}

    private final Map<BrokerKind, Map<Workloads.Metric, List<Double>>> samples = new EnumMap<>(BrokerKind.class);

    public void add(BrokerKind kind, Map<Workloads.Metric, Double> run) {
        Map<Workloads.Metric, List<Double>> byMetric = samples.computeIfAbsent(kind, k -> new EnumMap<>(Workloads.Metric.class));
        run.forEach((metric, value) -> byMetric.computeIfAbsent(metric, x -> new ArrayList<>()).add(value));
    }

    public Spread spread(BrokerKind kind, Workloads.Metric metric) {
        List<Double> values = samples.getOrDefault(kind, Map.of()).get(metric);
        if (values == null || values.isEmpty()) {
            return null;
        }
        return spreadOf(values);
    }

    /** Median, min and max of some samples. */
    public static Spread spreadOf(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        double median = n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
        return new Spread(median, sorted.get(0), sorted.get(n - 1), n);
    }

    /** Capstan's median divided by the other broker's, or NaN when either is missing. */
    public double ratio(Workloads.Metric metric, BrokerKind other) {
        return ratio(metric, BrokerKind.CAPSTAN, other);
    }

    /** One broker's median divided by another's, or NaN when either is missing. */
    public double ratio(Workloads.Metric metric, BrokerKind one, BrokerKind other) {
        Spread c = spread(one, metric);
        Spread k = spread(other, metric);
        return c == null || k == null || k.median() == 0 ? Double.NaN : c.median() / k.median();
    }
}
