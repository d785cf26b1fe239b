package io.capstan.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One command, one machine, one run: Apache Kafka (default and with an fsync per batch) and Capstan, each on fresh
 * storage, driven by Kafka's own perf tools with the same client settings, in an order that alternates across
 * repetitions so that drift cancels. Writes docs/benchmarks-results.md and a PNG chart.
 *
 * <p>Usage: {@code bench/run [--reps N] [--scale F] [--out DIR]}; {@code --tls} runs the TLS comparison instead
 * (docs/benchmarks-tls-results.md); {@code --compaction} the compaction comparison (docs/benchmarks-compaction-results.md);
 * {@code --transactions} the transaction comparison (docs/benchmarks-transactions-results.md); {@code --cluster} three-broker
 * clusters (docs/benchmarks-cluster-results.md); {@code --curve} the latency curve (docs/benchmarks-curve-results.md);
 * {@code --restart} the restart after SIGKILL (docs/benchmarks-restart-results.md).
 */
public final class BenchMain {
    /** Held so that its level stays set (the logging framework keeps loggers weakly). */
    private static final java.util.logging.Logger JMX_CLIENT_LOG = java.util.logging.Logger.getLogger("javax.management.remote");

    public static void main(String[] args) throws Exception {
        // the clients in this JVM log every retry of a failover at WARN; the figures say what happened
        if (System.getProperty("org.slf4j.simpleLogger.log.org.apache.kafka") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.org.apache.kafka", "error");
        }
        JMX_CLIENT_LOG.setLevel(java.util.logging.Level.OFF); // a killed broker's JMX connection is expected to fail
        int reps = 3;
        double scale = 0.25;
        Path out = Path.of("docs");
        Path repo = Path.of(".").toAbsolutePath().normalize();
        boolean tls = false;
        boolean compaction = false;
        boolean transactions = false;
        boolean cluster = false;
        boolean curve = false;
        boolean restart = false;
        boolean manyShards = false;
        int kills = 4;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--tls" -> tls = true;
                case "--compaction" -> compaction = true;
                case "--transactions" -> transactions = true;
                case "--cluster" -> cluster = true;
                case "--curve" -> curve = true;
                case "--restart" -> restart = true;
                case "--many-shards" -> manyShards = true;
                case "--kills" -> kills = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--scale" -> scale = Double.parseDouble(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--repo" -> repo = Path.of(args[++i]);
                default -> {
                    System.err.println("unknown option " + args[i] + "; usage: bench/run [--tls | --compaction | --transactions | --cluster [--kills K] | --curve | --restart | --many-shards] [--reps N] [--scale F] [--out DIR]");
                    System.exit(2);
                }
            }
        }
        if (restart) {
            // (i) SIGKILL and restart with 10 GiB (times the scale) in 1,000 shards
            RestartBench.main(repo, reps, scale, out);
            return;
        }
        if (manyShards) {
            // (g) alone: 1,000 shards, four producers, each broker kind in alternating order
            Summary summary = run(repo, reps, scale, Files.createTempDirectory("capstan-bench"), BrokerKind.DEFAULT_SET,
                    (workloads, broker, rep) -> workloads.runManyShards(broker, rep));
            writeManyShards(summary, out, reps, scale);
            return;
        }
        if (curve) {
            // (h) produce latency at 25-90 % of Kafka's maximum, single broker and 3-broker clusters
            LatencyCurve.main(repo, reps, scale, out);
            return;
        }
        if (cluster) {
            // three brokers each: (f) throughput at RF 3 and (j) K leader SIGKILLs per repetition
            ClusterBench.main(repo, reps, scale, kills, out);
            return;
        }
        if (transactions) {
            // transactions of 100 and of 1,000 records, 60,000 records of each at scale 1
            BrokerUnderTest.Classpaths cp = BrokerUnderTest.Classpaths.detect(repo);
            List<TransactionBench.Run> runs = new java.util.ArrayList<>();
            for (int perTxn : List.of(100, 1_000)) {
                int count = (int) Math.max(20, Math.round(60_000 * scale / perTxn));
                runs.add(new TransactionBench.Run(count, perTxn, TransactionBench.run(cp, Files.createTempDirectory("capstan-bench"), count, perTxn,
                        line -> System.out.printf("%s %s%n", Instant.now().toString().substring(11, 19), line))));
            }
            TransactionBench.write(runs, out);
            return;
        }
        if (compaction) {
            // 100,000 keys x 10 updates at scale 1; the rate is fixed so both brokers face the same load
            int keys = (int) Math.max(1000, Math.round(100_000 * scale));
            BrokerUnderTest.Classpaths cp = BrokerUnderTest.Classpaths.detect(repo);
            List<CompactionBench.Result> results = CompactionBench.run(cp, Files.createTempDirectory("capstan-bench"), keys, 10, 10_000, 60,
                    line -> System.out.printf("%s %s%n", Instant.now().toString().substring(11, 19), line));
            CompactionBench.write(results, out, keys, 10, 10_000, 60);
            return;
        }
        if (tls) {
            Summary summary = run(repo, reps, scale, Files.createTempDirectory("capstan-bench"), BrokerKind.TLS_SET, true);
            TlsReport.write(summary, out, reps, scale);
            return;
        }
        Summary summary = run(repo, reps, scale, Files.createTempDirectory("capstan-bench"));
        write(summary, out, reps, scale);
    }

    public static Summary run(Path repo, int reps, double scale, Path work) throws Exception {
        return run(repo, reps, scale, work, BrokerKind.DEFAULT_SET, false);
    }

    public static Summary run(Path repo, int reps, double scale, Path work, List<BrokerKind> kinds, boolean tlsWorkloads) throws Exception {
        return run(repo, reps, scale, work, kinds, tlsWorkloads ? Workloads::runTls : Workloads::run);
    }

    /** The workloads of one repetition on one broker. */
    interface Repetition {
        Map<Workloads.Metric, Double> run(Workloads workloads, BrokerUnderTest broker, int rep) throws Exception;
    }

    public static Summary run(Path repo, int reps, double scale, Path work, List<BrokerKind> kinds, Repetition repetition) throws Exception {
        BrokerUnderTest.Classpaths cp = BrokerUnderTest.Classpaths.detect(repo);
        Path logs = Files.createDirectories(work.resolve("logs"));
        Workloads workloads = new Workloads(new PerfTools(cp.kafka(), logs), scale,
                line -> System.out.printf("%s %s%n", Instant.now().toString().substring(11, 19), line));
        Summary summary = new Summary();
        for (int rep = 1; rep <= reps; rep++) {
            List<BrokerKind> order = new ArrayList<>(kinds);
            if (rep % 2 == 0) {
                java.util.Collections.reverse(order);
            }
            for (BrokerKind kind : order) {
                System.out.printf("== repetition %d/%d: %s%n", rep, reps, kind.label());
                try (BrokerUnderTest broker = BrokerUnderTest.start(kind, work, cp)) {
                    Map<Workloads.Metric, Double> result = repetition.run(workloads, broker, rep);
                    result.forEach((m, v) -> System.out.printf(Locale.ROOT, "   %-48s %12s %s%n", m.label, Report.fmt(v), m.unit));
                    summary.add(kind, result);
                }
            }
        }
        System.out.println("logs of every tool and broker: " + logs);
        return summary;
    }

    private static void write(Summary summary, Path out, int reps, double scale) throws Exception {
        Files.createDirectories(out);
        String table = Report.markdownTable(summary);
        Report.chart(summary, out.resolve("benchmarks.png"));
        String machine = String.format(Locale.ROOT, "%d cores, %.1f GiB RAM, %s %s, Java %s", Runtime.getRuntime().availableProcessors(),
                memTotalGiB(), System.getProperty("os.name"), System.getProperty("os.version"), System.getProperty("java.version"));
        String body = "# Benchmark results (generated)\n\n"
                + "Generated by `bench/run --reps " + reps + " --scale " + scale + "` on " + Instant.now() + ".\n\n"
                + "Machine: " + machine + ". Apache Kafka 4.4.0 (KRaft, single node) and Capstan 0.1.0 each ran with a 1 GiB heap on fresh\n"
                + "storage in the same directory; clients: Kafka's ProducerPerformance and ConsumerPerformance 4.4.0 with their default\n"
                + "settings plus acks=all and enable.idempotence=true. Each figure is the median of " + reps + " repetitions (min–max in brackets).\n\n"
                + table + "\n![throughput and latency](benchmarks.png)\n";
        Files.writeString(out.resolve("benchmarks-results.md"), body);
        System.out.println(table);
        System.out.println("wrote " + out.resolve("benchmarks-results.md") + " and " + out.resolve("benchmarks.png"));
    }

    private static void writeManyShards(Summary summary, Path out, int reps, double scale) throws Exception {
        Files.createDirectories(out);
        String table = Report.markdownTable(summary, List.of(Workloads.Metric.G_MB_S, Workloads.Metric.G_CPU_S_PER_GIB));
        String body = "# Benchmark results: (g) 1,000 shards (generated)\n\n"
                + "Generated by `bench/run --many-shards --reps " + reps + " --scale " + scale + "` on " + Instant.now() + ".\n\n"
                + "A topic of 1,000 shards (RF 1) on one broker; four ProducerPerformance 4.4.0 at once, 1 KiB records at max rate,\n"
                + "acks=all, not idempotent (see docs/benchmarks.md), each without its first tenth; MB/s of the four summed. CPU is\n"
                + "the broker's over the whole workload per GiB produced. Medians of " + reps + " repetitions (min–max in brackets).\n\n"
                + table;
        Files.writeString(out.resolve("benchmarks-many-shards-results.md"), body);
        System.out.println(table);
        System.out.println("wrote " + out.resolve("benchmarks-many-shards-results.md"));
    }

    private static double memTotalGiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / (1024.0 * 1024.0);
                }
            }
        } catch (java.io.IOException ignored) {
            // not Linux: report 0
        }
        return 0;
    }
}
