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
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Three-broker clusters side by side ({@code bench/run --cluster}): Capstan's {@code cluster up} against Kafka KRaft
 * with three combined nodes, each repetition on fresh clusters in alternating order.
 * <ul>
 *   <li>(f) one ProducerPerformance at maximum rate, 1 KiB records, a topic of 3 shards, replication factor 3,
 *       min.insync.replicas 2, acks=all; with the brokers' CPU seconds, heap bytes allocated and bytes written to
 *       storage, all brokers (and Capstan's controller) together, per byte produced.</li>
 *   <li>(j) failover: an idempotent acks=all producer at a fixed 1,000 records/s over 3 shards; the leader of shard 0
 *       is SIGKILLed, and the produce unavailability is the time from the kill until the first record sent to shard 0
 *       after it is acknowledged; the node is started again and every shard's ISR is full before the next kill.</li>
 * </ul>
 */
public final class ClusterBench {
    static final List<BrokerKind> KINDS = List.of(BrokerKind.CAPSTAN, BrokerKind.KAFKA_DEFAULT);
    private static final int SHARDS = 3;
    private static final int FAILOVER_RATE = 1_000;

    enum Metric {
        F_MB_S("(f) 3 brokers, RF 3, 1 KiB, max rate", "MB/s", true),
        F_P99_MS("(f) produce p99 at max rate", "ms", false),
        F_CPU_S_PER_GIB("(f) CPU of all brokers per GiB produced", "s/GiB", false),
        F_ALLOCATED_PER_BYTE("(f) heap bytes allocated per byte produced", "ratio", false),
        F_DISK_PER_BYTE("(f) disk bytes written per byte produced (3 replicas)", "ratio", false),
        J_MEDIAN_MS("(j) produce unavailability per leader SIGKILL, median", "ms", false),
        J_MAX_MS("(j) produce unavailability per leader SIGKILL, max", "ms", false);

        final String label;
        final String unit;
        final boolean higherIsBetter;

        Metric(String label, String unit, boolean higherIsBetter) {
            this.label = label;
            this.unit = unit;
            this.higherIsBetter = higherIsBetter;
        }
    }

    /** Both by default; {@code -Dcapstan.bench.kinds=CAPSTAN} runs one (to study one broker's failover with client logs). */
    private static List<BrokerKind> kinds() {
        String only = System.getProperty("capstan.bench.kinds");
        return only == null ? KINDS : java.util.Arrays.stream(only.split(",")).map(BrokerKind::valueOf).toList();
    }

    private final BrokerUnderTest.Classpaths cp;
    private final Path work;
    private final PerfTools tools;
    private final Consumer<String> progress;
    private final Map<BrokerKind, Map<Metric, List<Double>>> samples = new EnumMap<>(BrokerKind.class);
    private final Map<BrokerKind, List<Long>> failovers = new EnumMap<>(BrokerKind.class);
    final Map<BrokerKind, Long> producerErrors = new EnumMap<>(BrokerKind.class);

    ClusterBench(BrokerUnderTest.Classpaths cp, Path work, Consumer<String> progress) throws Exception {
        this.cp = cp;
        this.work = work;
        this.tools = new PerfTools(cp.kafka(), Files.createDirectories(work.resolve("logs")));
        this.progress = progress;
    }

    /** {@code reps} alternating repetitions; (f) once and (j) {@code killsPerRep} times per cluster. */
    void run(int reps, double scale, int killsPerRep) throws Exception {
        HeapAllocation.requireAvailable();
        for (int rep = 1; rep <= reps; rep++) {
            List<BrokerKind> order = new ArrayList<>(kinds());
            if (rep % 2 == 0) {
                Collections.reverse(order);
            }
            for (BrokerKind kind : order) {
                progress.accept("== repetition " + rep + "/" + reps + ": " + kind.label() + ", 3 brokers");
                try (ClusterUnderTest cluster = ClusterUnderTest.start(kind, work, cp)) {
                    throughput(cluster, kind, rep, scale);
                    failover(cluster, kind, killsPerRep);
                }
            }
        }
        for (BrokerKind kind : KINDS) {
            List<Long> sorted = new ArrayList<>(failovers.getOrDefault(kind, List.of()));
            Collections.sort(sorted);
            if (!sorted.isEmpty()) {
                add(kind, Metric.J_MEDIAN_MS, sorted.get(sorted.size() / 2));
                add(kind, Metric.J_MAX_MS, sorted.get(sorted.size() - 1));
            }
        }
    }

    private void throughput(ClusterUnderTest cluster, BrokerKind kind, int rep, double scale) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic("f", SHARDS, (short) 3).configs(Map.of("min.insync.replicas", "2")))).all().get();
        }
        long records = Math.max(1000, Math.round(3_000_000 * scale));
        String tag = kind.name().toLowerCase() + "-cluster-r" + rep + "-f";
        progress.accept(tag + ": " + records + " records of 1 KiB at max rate, RF 3, acks=all");
        ProcStats before = cluster.stats();
        long allocatedBefore = cluster.allocatedBytes();
        PerfTools.ProducerResult f = tools.awaitProducer(tools.startProducer(cluster.bootstrap(), "f", records, 1024, -1, tag), tag);
        ProcStats used = cluster.stats().minus(before);
        double bytes = f.records() * 1024.0;
        add(kind, Metric.F_MB_S, f.mbPerSec());
        add(kind, Metric.F_P99_MS, f.p99Ms());
        add(kind, Metric.F_CPU_S_PER_GIB, used.cpuSeconds() / (bytes / (1L << 30)));
        add(kind, Metric.F_ALLOCATED_PER_BYTE, (cluster.allocatedBytes() - allocatedBefore) / bytes);
        add(kind, Metric.F_DISK_PER_BYTE, used.writeBytes() / bytes);
        progress.accept(String.format(Locale.ROOT, "%s: %.1f MB/s, p99 %.0f ms, %.1f CPU s/GiB, %.2f heap bytes and %.2f disk bytes per byte",
                tag, f.mbPerSec(), f.p99Ms(), used.cpuSeconds() / (bytes / (1L << 30)), (cluster.allocatedBytes() - allocatedBefore) / bytes,
                used.writeBytes() / bytes));
    }

    private void failover(ClusterUnderTest cluster, BrokerKind kind, int kills) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", cluster.bootstrap());
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        List<ConcurrentLinkedQueue<long[]>> acks = new ArrayList<>();
        for (int s = 0; s < SHARDS; s++) {
            acks.add(new ConcurrentLinkedQueue<>());
        }
        AtomicLong errors = new AtomicLong();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrap()));
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            admin.createTopics(List.of(new NewTopic("j", SHARDS, (short) 3).configs(Map.of("min.insync.replicas", "2")))).all().get();
            awaitFullIsr(admin);
            byte[] value = new byte[1024];
            Thread sender = new Thread(() -> {
                long interval = TimeUnit.SECONDS.toNanos(1) / FAILOVER_RATE;
                long next = System.nanoTime();
                for (long i = 0; !Thread.currentThread().isInterrupted(); i++) {
                    int shard = (int) (i % SHARDS);
                    long sent = System.nanoTime();
                    producer.send(new ProducerRecord<>("j", shard, null, value), (md, e) -> {
                        if (e == null) {
                            acks.get(shard).add(new long[] {sent, System.nanoTime()});
                        } else {
                            errors.incrementAndGet();
                        }
                    });
                    next += interval;
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        java.util.concurrent.locks.LockSupport.parkNanos(wait); // pacing the load, not synchronisation
                    }
                }
            }, "failover-load");
            sender.start();
            try {
                for (int k = 1; k <= kills; k++) {
                    Thread.sleep(2_000); // steady load before the fault: the schedule, not synchronisation
                    int leader = describe(admin).partitions().get(0).leader().id();
                    long killedAt = cluster.kill(leader);
                    long ackedAt = awaitAckOfSendAfter(acks.get(0), killedAt);
                    long ms = (ackedAt - killedAt) / 1_000_000;
                    failovers.computeIfAbsent(kind, x -> new ArrayList<>()).add(ms);
                    progress.accept(String.format(Locale.ROOT, "%s: SIGKILL %d/%d of node %d (leader of shard 0): the first record sent after it acknowledged %d ms later",
                            kind.label(), k, kills, leader, ms));
                    cluster.awaitBack(leader);
                    awaitFullIsr(admin);
                }
            } finally {
                sender.interrupt();
                sender.join();
                producer.flush();
            }
        }
        producerErrors.merge(kind, errors.get(), Long::sum);
        if (errors.get() > 0) {
            progress.accept(kind.label() + ": the failover producer saw " + errors.get() + " errors");
        }
    }

    private static TopicDescription describe(Admin admin) throws Exception {
        return admin.describeTopics(Set.of("j")).allTopicNames().get().get("j");
    }

    private static void awaitFullIsr(Admin admin) throws Exception {
        TopicWait.untilEveryShard(admin, "j", p -> p.leader() != null && p.isr().size() == 3, "had all 3 replicas in sync");
    }

    private static long awaitAckOfSendAfter(ConcurrentLinkedQueue<long[]> acks, long since) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            for (long[] a : acks) {
                if (a[0] > since) {
                    return a[1];
                }
            }
            Thread.sleep(10); // polling the acknowledgements the producer's callbacks record
        }
        throw new IllegalStateException("no record sent after the kill was acknowledged within 180 s");
    }

    private void add(BrokerKind kind, Metric metric, double value) {
        samples.computeIfAbsent(kind, k -> new EnumMap<>(Metric.class)).computeIfAbsent(metric, m -> new ArrayList<>()).add(value);
    }

    Summary.Spread spread(BrokerKind kind, Metric metric) {
        List<Double> values = samples.getOrDefault(kind, Map.of()).get(metric);
        return values == null || values.isEmpty() ? null : Summary.spreadOf(values);
    }

    /** docs/benchmarks-cluster-results.md. */
    void write(Path out, int reps, double scale, int killsPerRep) throws Exception {
        StringBuilder t = new StringBuilder("| metric | Capstan, 3 brokers (fsync before ack) | Kafka 4.4, 3 KRaft nodes (default: no fsync) | Capstan ÷ Kafka |\n|---|---|---|---|\n");
        for (Metric m : Metric.values()) {
            Summary.Spread c = spread(BrokerKind.CAPSTAN, m);
            Summary.Spread k = spread(BrokerKind.KAFKA_DEFAULT, m);
            t.append("| ").append(m.label).append(", ").append(m.unit).append(" | ").append(Report.cell(c)).append(" | ").append(Report.cell(k)).append(" | ")
                    .append(Report.ratio(c == null || k == null || k.median() == 0 ? Double.NaN : c.median() / k.median())).append(" |\n");
        }
        String body = "# Cluster benchmark results (generated)\n\n"
                + "Generated by `bench/run --cluster --reps " + reps + " --scale " + scale + " --kills " + killsPerRep + BenchMain.capstanSettings() + "` on " + Instant.now() + ".\n\n"
                + "Three brokers each, fresh storage per repetition, alternating order. (f) figures are medians of " + reps
                + " repetitions (min–max); (j) the median and maximum of all " + (reps * killsPerRep) + " kills of each. "
                + "Producer errors during (j): Capstan " + producerErrors.getOrDefault(BrokerKind.CAPSTAN, 0L) + ", Kafka "
                + producerErrors.getOrDefault(BrokerKind.KAFKA_DEFAULT, 0L) + ".\n\n"
                + "Every (j) kill, in ms: Capstan " + failovers.getOrDefault(BrokerKind.CAPSTAN, List.of()) + "; Kafka "
                + failovers.getOrDefault(BrokerKind.KAFKA_DEFAULT, List.of()) + ".\n\n" + t;
        Files.createDirectories(out);
        Files.writeString(out.resolve("benchmarks-cluster-results.md"), body);
        System.out.println(t);
        System.out.println("wrote " + out.resolve("benchmarks-cluster-results.md") + "; logs in " + work);
    }

    static void main(Path repo, int reps, double scale, int killsPerRep, Path out) throws Exception {
        ClusterBench bench = new ClusterBench(BrokerUnderTest.Classpaths.detect(repo), Files.createTempDirectory("capstan-bench"),
                line -> System.out.printf("%s %s%n", Instant.now().toString().substring(11, 19), line));
        bench.run(reps, scale, killsPerRep);
        bench.write(out, reps, scale, killsPerRep);
    }
}
