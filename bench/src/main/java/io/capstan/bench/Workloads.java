package io.capstan.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * The workloads of issue 4, run in order against one broker; every figure they produce goes into one map.
 * Sizes scale with {@code scale} (1.0 = the sizes).
 */
public final class Workloads {
    private final PerfTools tools;
    private final double scale;
    private final java.util.function.Consumer<String> progress;

    public Workloads(PerfTools tools, double scale, java.util.function.Consumer<String> progress) {
        this.tools = tools;
        this.scale = scale;
        this.progress = progress;
    }

    static final int MANY_SHARDS = 1_000;

    long n(long full) {
        return Math.max(1000, Math.round(full * scale));
    }

    /** Runs (a)-(e), (g) and the resource figures; keys are metric names, see {@link Metric}. */
    public Map<Metric, Double> run(BrokerUnderTest broker, int rep) throws Exception {
        Map<Metric, Double> m = new LinkedHashMap<>();
        String tag = broker.kind().name().toLowerCase() + "-r" + rep;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic("a", 1, (short) 1), new NewTopic("b", 8, (short) 1),
                    new NewTopic("c", 1, (short) 1), new NewTopic("d", 1, (short) 1), new NewTopic("e", 1, (short) 1))).all().get();
        }
        ProcStats before = broker.stats();
        long allocatedBefore = broker.allocatedBytes();
        long bytesProduced = 0;

        progress.accept(tag + ": (a) 1 KiB records, 1 shard, max rate");
        PerfTools.ProducerResult a = tools.awaitProducer(tools.startProducer(broker.bootstrap(), "a", n(2_000_000), 1024, -1, tag + "-a"), tag + "-a");
        m.put(Metric.A_MB_S, a.mbPerSec());
        m.put(Metric.A_P99_MS, a.p99Ms());
        bytesProduced += a.records() * 1024;

        progress.accept(tag + ": (b) 1 KiB records, 8 shards, 2 producers");
        List<Process> producers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            producers.add(tools.startProducer(broker.bootstrap(), "b", n(1_000_000), 1024, -1, tag + "-b" + i));
        }
        double bTotal = 0;
        for (int i = 0; i < 2; i++) {
            PerfTools.ProducerResult b = tools.awaitProducer(producers.get(i), tag + "-b" + i);
            bTotal += b.mbPerSec();
            bytesProduced += b.records() * 1024;
        }
        m.put(Metric.B_MB_S, bTotal);

        progress.accept(tag + ": (c) 100-byte records, max rate");
        PerfTools.ProducerResult c = tools.awaitProducer(tools.startProducer(broker.bootstrap(), "c", n(10_000_000), 100, -1, tag + "-c"), tag + "-c");
        m.put(Metric.C_RECORDS_S, c.recordsPerSec());
        bytesProduced += c.records() * 100;

        ProcStats produced = broker.stats().minus(before);
        m.put(Metric.CPU_S_PER_GIB, produced.cpuSeconds() / (bytesProduced / (double) (1L << 30)));
        m.put(Metric.JIT_CPU_S_PER_GIB, produced.jitCpuSeconds() / (bytesProduced / (double) (1L << 30)));
        m.put(Metric.DISK_BYTES_PER_BYTE, produced.writeBytes() / (double) bytesProduced);
        m.put(Metric.ALLOCATED_BYTES_PER_BYTE, (broker.allocatedBytes() - allocatedBefore) / (double) bytesProduced);

        progress.accept(tag + ": (d) 20,000 records/s, latency");
        long dRecords = n(20_000L * 30);
        // the first second is the client warming up, not the broker: left out of the percentiles
        PerfTools.ProducerResult d = tools.awaitProducer(tools.startProducer(broker.bootstrap(), "d", dRecords, 1024, 20_000,
                Math.min(20_000, dRecords / 5), tag + "-d"), tag + "-d");
        m.put(Metric.D_P50_MS, d.p50Ms());
        m.put(Metric.D_P99_MS, d.p99Ms());
        m.put(Metric.D_P999_MS, d.p999Ms());

        if (broker.kind() != BrokerKind.KAFKA_FSYNC) {
            long backlog = n(2L * 1024 * 1024); // 2 GiB of 1 KiB records at scale 1
            progress.accept(tag + ": (e) writing a backlog of " + backlog + " records, then catching up");
            tools.awaitProducer(tools.startProducer(broker.bootstrap(), "e", backlog, 1024, -1, tag + "-e-fill"), tag + "-e-fill");
            PerfTools.ConsumerResult e = tools.consume(broker.bootstrap(), "e", backlog, tag + "-e");
            m.put(Metric.E_MB_S, e.fetchMbPerSec());
        }
        m.putAll(runManyShards(broker, rep));
        m.put(Metric.PEAK_RSS_MB, broker.stats().peakRssBytes() / 1e6);
        return m;
    }

    /** (g) alone, for bench/run --many-shards. */
    public Map<Metric, Double> runManyShards(BrokerUnderTest broker, int rep) throws Exception {
        Map<Metric, Double> m = new LinkedHashMap<>();
        String tag = broker.kind().name().toLowerCase() + "-r" + rep;
        ProcStats before = broker.stats();
        m.put(Metric.G_MB_S, manyShards(broker, tag));
        m.put(Metric.G_CPU_S_PER_GIB, broker.stats().minus(before).cpuSeconds() / (4 * n(500_000) * 1024 / (double) (1L << 30)));
        return m;
    }

    /**
     * (g) 1 KiB records spread over 1,000 shards by four producers at once; their MB/s summed. Not idempotent, for
     * every broker alike: Kafka 4.4's brokers answered idempotent producers' batches to this fresh 1,000-shard topic
     * with OutOfOrderSequenceException again and again, which stalled its producers rather than measuring it.
     */
    private double manyShards(BrokerUnderTest broker, String tag) throws Exception {
        progress.accept(tag + ": (g) 1 KiB records, " + MANY_SHARDS + " shards, 4 producers");
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic("g", MANY_SHARDS, (short) 1))).all().get();
            TopicWait.untilEveryShard(admin, "g", p -> p.leader() != null, "had a leader");
        }
        // the first tenth of each producer's records is left out of its figure: its metadata for 1,000 shards and the
        // brokers' first appends to each are start-up, not throughput
        long records = n(500_000);
        List<Process> producers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            producers.add(tools.startProducer(broker.bootstrap(), null, "g", records, 1024, -1, records / 10, false, tag + "-g" + i));
        }
        double total = 0;
        for (int i = 0; i < producers.size(); i++) {
            total += tools.awaitProducer(producers.get(i), tag + "-g" + i).mbPerSec();
        }
        return total;
    }

    /**
     * The TLS comparison (bench/run --tls): (a) 1 KiB records at max rate on one shard, and (e) a consumer catching
     * up on a backlog, over whatever transport the broker uses; client settings are the same for both brokers.
     */
    public Map<Metric, Double> runTls(BrokerUnderTest broker, int rep) throws Exception {
        Map<Metric, Double> m = new LinkedHashMap<>();
        String tag = broker.kind().name().toLowerCase() + "-r" + rep;
        try (Admin admin = Admin.create(broker.adminProps())) {
            admin.createTopics(List.of(new NewTopic("a", 1, (short) 1), new NewTopic("e", 1, (short) 1))).all().get();
        }
        ProcStats before = broker.stats();
        progress.accept(tag + ": (a) 1 KiB records, 1 shard, max rate");
        PerfTools.ProducerResult a = tools.awaitProducer(tools.startProducer(broker.bootstrap(), broker.clientConfig(), "a",
                n(2_000_000), 1024, -1, 0, tag + "-a"), tag + "-a");
        m.put(Metric.A_MB_S, a.mbPerSec());
        m.put(Metric.A_P99_MS, a.p99Ms());
        ProcStats produced = broker.stats().minus(before);
        m.put(Metric.CPU_S_PER_GIB, produced.cpuSeconds() / (a.records() * 1024 / (double) (1L << 30)));
        long backlog = n(2L * 1024 * 1024);
        progress.accept(tag + ": (e) writing a backlog of " + backlog + " records, then catching up");
        tools.awaitProducer(tools.startProducer(broker.bootstrap(), broker.clientConfig(), "e", backlog, 1024, -1, 0, tag + "-e-fill"), tag + "-e-fill");
        PerfTools.ConsumerResult e = tools.consume(broker.bootstrap(), broker.clientConfig(), "e", backlog, tag + "-e");
        m.put(Metric.E_MB_S, e.fetchMbPerSec());
        return m;
    }

    /**
     * Tracing's cost (bench/run --tracing): (a) 1 KiB records and (c) 100-byte records at max rate, the broker's CPU per
     * GiB over both, and how many exports the collector stand-in received meanwhile (0 for the broker without tracing).
     */
    public Map<Metric, Double> runTracing(BrokerUnderTest broker, int rep) throws Exception {
        Map<Metric, Double> m = new LinkedHashMap<>();
        String tag = broker.kind().name().toLowerCase() + "-r" + rep;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic("a", 1, (short) 1), new NewTopic("c", 1, (short) 1))).all().get();
        }
        ProcStats before = broker.stats();
        long exportsBefore = broker.kind() == BrokerKind.CAPSTAN_TRACED ? OtlpSink.shared().exports() : 0;
        progress.accept(tag + ": (a) 1 KiB records, 1 shard, max rate");
        PerfTools.ProducerResult a = tools.awaitProducer(tools.startProducer(broker.bootstrap(), "a", n(2_000_000), 1024, -1, tag + "-a"), tag + "-a");
        m.put(Metric.A_MB_S, a.mbPerSec());
        m.put(Metric.A_P99_MS, a.p99Ms());
        progress.accept(tag + ": (c) 100-byte records, max rate");
        PerfTools.ProducerResult c = tools.awaitProducer(tools.startProducer(broker.bootstrap(), "c", n(10_000_000), 100, -1, tag + "-c"), tag + "-c");
        m.put(Metric.C_RECORDS_S, c.recordsPerSec());
        ProcStats produced = broker.stats().minus(before);
        m.put(Metric.CPU_S_PER_GIB, produced.cpuSeconds() / ((a.records() * 1024 + c.records() * 100) / (double) (1L << 30)));
        if (broker.kind() == BrokerKind.CAPSTAN_TRACED) {
            // the batch processor sends at most a second after the last span: wait for it, as the figure is about what was sent
            Thread.sleep(2_000);
        }
        m.put(Metric.TRACE_EXPORTS, broker.kind() == BrokerKind.CAPSTAN_TRACED ? (double) (OtlpSink.shared().exports() - exportsBefore) : 0);
        return m;
    }

    /** Every figure the harness reports, with its unit and whether more is better. */
    public enum Metric {
        A_MB_S("(a) 1 KiB, 1 shard, max rate", "MB/s", true),
        A_P99_MS("(a) produce p99 at max rate", "ms", false),
        B_MB_S("(b) 1 KiB, 8 shards, 2 producers", "MB/s", true),
        C_RECORDS_S("(c) 100 B records, max rate", "records/s", true),
        D_P50_MS("(d) 20k records/s: ack latency p50", "ms", false),
        D_P99_MS("(d) 20k records/s: ack latency p99", "ms", false),
        D_P999_MS("(d) 20k records/s: ack latency p99.9", "ms", false),
        E_MB_S("(e) consumer catch-up on the backlog", "MB/s", true),
        G_MB_S("(g) 1 KiB, 1,000 shards, 4 producers", "MB/s", true),
        G_CPU_S_PER_GIB("(g) broker CPU per GiB produced", "s/GiB", false),
        CPU_S_PER_GIB("broker CPU per GiB produced (a-c)", "s/GiB", false),
        JIT_CPU_S_PER_GIB("of that, the JIT compiler's threads (a-c)", "s/GiB", false),
        TRACE_EXPORTS("OTLP exports the collector received", "requests", true),
        DISK_BYTES_PER_BYTE("disk bytes written per byte produced (a-c)", "ratio", false),
        ALLOCATED_BYTES_PER_BYTE("heap bytes allocated per byte produced (a-c)", "ratio", false),
        PEAK_RSS_MB("broker peak RSS", "MB", false);

        public final String label;
        public final String unit;
        public final boolean higherIsBetter;

        Metric(String label, String unit, boolean higherIsBetter) {
            this.label = label;
            this.unit = unit;
            this.higherIsBetter = higherIsBetter;
        }
    }
}
