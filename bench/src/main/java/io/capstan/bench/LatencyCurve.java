package io.capstan.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * (h) the latency curve ({@code bench/run --curve}): produce latency at 25, 50, 75 and 90 % of Apache Kafka's own
 * maximum rate on the same workload, measured in the same repetition, for a single broker (1 KiB records, one shard,
 * RF 1) and for three-broker clusters (1 KiB, 3 shards, RF 3, min.insync.replicas 2). acks=all and idempotence for
 * every producer.
 *
 * <p>Each repetition first measures Kafka's maximum on a fresh Kafka (the calibration), then runs every point of the
 * curve on a fresh broker or cluster of each kind, in an order that alternates across repetitions. A point holds its
 * rate for a fixed time; the first fifth of its records is left out (the client's start, not the broker). A broker that
 * cannot hold a rate shows it: the achieved rate is reported beside the percentiles.
 */
public final class LatencyCurve {
    static final double[] FRACTIONS = {0.25, 0.50, 0.75, 0.90};
    static final List<BrokerKind> KINDS = List.of(BrokerKind.CAPSTAN, BrokerKind.KAFKA_DEFAULT);

    /** One system under test: a single broker or a cluster, started fresh for each use. */
    enum Setup {
        SINGLE("single broker: 1 KiB, 1 shard, RF 1", 1, (short) 1, 2_000_000),
        CLUSTER("3 brokers: 1 KiB, 3 shards, RF 3, min.insync 2", 3, (short) 3, 3_000_000);

        final String label;
        final int shards;
        final short replicas;
        /** Records of the calibration at scale 1: as many as (a) and (f) produce, whose maxima it repeats. */
        final long calibrationRecords;

        Setup(String label, int shards, short replicas, long calibrationRecords) {
            this.label = label;
            this.shards = shards;
            this.replicas = replicas;
            this.calibrationRecords = calibrationRecords;
        }
    }

    /** A started broker or cluster: where clients connect, and how it is stopped. */
    record Started(String bootstrap, AutoCloseable handle) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            handle.close();
        }
    }

    /** The figures of one point of one repetition. */
    record Point(double fraction, long targetRecordsPerSec, PerfTools.ProducerResult result) {}

    private final BrokerUnderTest.Classpaths cp;
    private final Path work;
    private final PerfTools tools;
    private final Consumer<String> progress;
    private final double scale;
    private final Map<Setup, Map<BrokerKind, List<Point>>> points = new EnumMap<>(Setup.class);
    private final Map<Setup, List<Double>> kafkaMaxima = new EnumMap<>(Setup.class);

    LatencyCurve(BrokerUnderTest.Classpaths cp, Path work, double scale, Consumer<String> progress) throws Exception {
        this.cp = cp;
        this.work = work;
        this.scale = scale;
        this.tools = new PerfTools(cp.kafka(), Files.createDirectories(work.resolve("logs")));
        this.progress = progress;
    }

    private Started start(Setup setup, BrokerKind kind) throws Exception {
        if (setup == Setup.SINGLE) {
            BrokerUnderTest broker = BrokerUnderTest.start(kind, work, cp);
            return new Started(broker.bootstrap(), broker);
        }
        ClusterUnderTest cluster = ClusterUnderTest.start(kind, work, cp);
        return new Started(cluster.bootstrap(), cluster);
    }

    /** Seconds each point holds its rate. */
    long pointSeconds() {
        return Math.max(1, Math.round(60 * scale));
    }

    void run(Setup setup, int reps) throws Exception {
        for (int rep = 1; rep <= reps; rep++) {
            String tag = setup.name().toLowerCase() + "-r" + rep;
            long records = Math.max(1000, Math.round(setup.calibrationRecords * scale));
            progress.accept("== " + setup.label + ", repetition " + rep + "/" + reps + ": Kafka's maximum rate (" + records + " records)");
            double max;
            try (Started kafka = start(setup, BrokerKind.KAFKA_DEFAULT)) {
                createTopic(kafka, "h-max", setup);
                max = tools.awaitProducer(tools.startProducer(kafka.bootstrap(), "h-max", records, 1024, -1, records / 10, tag + "-max"),
                        tag + "-max").recordsPerSec();
            }
            kafkaMaxima.computeIfAbsent(setup, s -> new ArrayList<>()).add(max);
            progress.accept(String.format(Locale.ROOT, "%s: Kafka's maximum %.0f records/s", tag, max));
            List<BrokerKind> order = new ArrayList<>(KINDS);
            if (rep % 2 == 0) {
                Collections.reverse(order);
            }
            for (BrokerKind kind : order) {
                try (Started target = start(setup, kind)) {
                    for (double fraction : FRACTIONS) {
                        long rate = Math.max(1, Math.round(max * fraction));
                        long count = rate * pointSeconds();
                        String topic = "h-" + Math.round(fraction * 100);
                        createTopic(target, topic, setup);
                        String pointTag = tag + "-" + kind.name().toLowerCase() + "-" + topic;
                        PerfTools.ProducerResult r = tools.awaitProducer(tools.startProducer(target.bootstrap(), topic, count, 1024, rate, count / 5,
                                pointTag), pointTag);
                        points.computeIfAbsent(setup, s -> new EnumMap<>(BrokerKind.class)).computeIfAbsent(kind, k -> new ArrayList<>())
                                .add(new Point(fraction, rate, r));
                        progress.accept(String.format(Locale.ROOT, "%s: %s at %.0f %% (%d records/s): held %.0f records/s, p50 %.0f ms, p99 %.0f ms, p99.9 %.0f ms",
                                tag, kind.label(), fraction * 100, rate, r.recordsPerSec(), r.p50Ms(), r.p99Ms(), r.p999Ms()));
                    }
                }
            }
        }
    }

    private void createTopic(Started target, String topic, Setup setup) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", target.bootstrap()))) {
            NewTopic t = new NewTopic(topic, setup.shards, setup.replicas);
            if (setup.replicas > 1) {
                t.configs(Map.of("min.insync.replicas", "2"));
            }
            admin.createTopics(List.of(t)).all().get();
            TopicWait.untilEveryShard(admin, topic, p -> p.leader() != null && p.isr().size() == setup.replicas, "had every replica in sync");
        }
    }

    /** The median over repetitions of one figure at one point, or null when it was not run. */
    Summary.Spread spread(Setup setup, BrokerKind kind, double fraction, java.util.function.ToDoubleFunction<PerfTools.ProducerResult> figure) {
        List<Double> values = new ArrayList<>();
        for (Point p : points.getOrDefault(setup, Map.of()).getOrDefault(kind, List.of())) {
            if (p.fraction() == fraction) {
                values.add(figure.applyAsDouble(p.result()));
            }
        }
        return values.isEmpty() ? null : Summary.spreadOf(values);
    }

    Summary.Spread kafkaMaximum(Setup setup) {
        List<Double> values = kafkaMaxima.get(setup);
        return values == null || values.isEmpty() ? null : Summary.spreadOf(values);
    }

    /** One table per setup: per point, the rate held and p50/p99/p99.9 of each broker, and the ratio of the p99s. */
    String table(Setup setup) {
        StringBuilder t = new StringBuilder("| % of Kafka's max | Capstan held, records/s | Capstan p50 / p99 / p99.9, ms | Kafka held, records/s "
                + "| Kafka p50 / p99 / p99.9, ms | Capstan p99 ÷ Kafka p99 |\n|---|---|---|---|---|---|\n");
        for (double fraction : FRACTIONS) {
            t.append(String.format(Locale.ROOT, "| %.0f %% ", fraction * 100));
            for (BrokerKind kind : KINDS) {
                t.append("| ").append(Report.cell(spread(setup, kind, fraction, PerfTools.ProducerResult::recordsPerSec))).append(" | ")
                        .append(percentiles(setup, kind, fraction)).append(' ');
            }
            Summary.Spread c = spread(setup, BrokerKind.CAPSTAN, fraction, PerfTools.ProducerResult::p99Ms);
            Summary.Spread k = spread(setup, BrokerKind.KAFKA_DEFAULT, fraction, PerfTools.ProducerResult::p99Ms);
            t.append("| ").append(Report.ratio(c == null || k == null || k.median() == 0 ? Double.NaN : c.median() / k.median())).append(" |\n");
        }
        return t.toString();
    }

    private String percentiles(Setup setup, BrokerKind kind, double fraction) {
        Summary.Spread p50 = spread(setup, kind, fraction, PerfTools.ProducerResult::p50Ms);
        Summary.Spread p99 = spread(setup, kind, fraction, PerfTools.ProducerResult::p99Ms);
        Summary.Spread p999 = spread(setup, kind, fraction, PerfTools.ProducerResult::p999Ms);
        if (p50 == null) {
            return "not run";
        }
        return ms(p50.median()) + " / " + ms(p99.median()) + " (" + ms(p99.min()) + "–" + ms(p99.max()) + ") / " + ms(p999.median());
    }

    /** The tool reports whole milliseconds. */
    private static String ms(double v) {
        return String.format(Locale.ROOT, "%,.0f", v);
    }

    /** docs/benchmarks-curve-results.md. */
    void write(Path out, int reps) throws Exception {
        StringBuilder body = new StringBuilder("# Latency curve results (generated)\n\n")
                .append("Generated by `bench/run --curve --reps ").append(reps).append(" --scale ").append(scale).append(BenchMain.capstanSettings()).append("` on ").append(Instant.now())
                .append(".\n\nPer repetition: Kafka's maximum rate measured on a fresh Kafka (ProducerPerformance at max rate), then each point held for ")
                .append(pointSeconds()).append(" s on a fresh broker or cluster of each kind, alternating order; the first fifth of each point's records ")
                .append("left out. Medians of ").append(reps).append(" repetitions; p99 with (min–max). acks=all, idempotent, 1 KiB records. ")
                .append("Capstan fsyncs before acknowledging; Kafka runs its defaults (no fsync).\n");
        for (Setup setup : Setup.values()) {
            Summary.Spread max = kafkaMaximum(setup);
            if (max == null) {
                continue;
            }
            body.append("\n## ").append(setup.label).append("\n\nKafka's maximum: ").append(Report.cell(max)).append(" records/s.\n\n").append(table(setup));
        }
        Files.createDirectories(out);
        Files.writeString(out.resolve("benchmarks-curve-results.md"), body.toString());
        System.out.println(body);
        System.out.println("wrote " + out.resolve("benchmarks-curve-results.md") + "; logs in " + work);
    }

    static void main(Path repo, int reps, double scale, Path out) throws Exception {
        LatencyCurve curve = new LatencyCurve(BrokerUnderTest.Classpaths.detect(repo), Files.createTempDirectory("capstan-bench"), scale,
                line -> System.out.printf("%s %s%n", Instant.now().toString().substring(11, 19), line));
        for (Setup setup : Setup.values()) {
            curve.run(setup, reps);
        }
        curve.write(out, reps);
    }
}
