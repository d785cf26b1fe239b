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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * (i) restart after SIGKILL ({@code bench/run --restart}): a single broker of each kind holds 10 GiB (times the scale)
 * of 1 KiB records in 1,000 shards; it is SIGKILLed and started again on the same storage, and the restart time is
 * from the new process's start until a record produced to every one of the 1,000 shards is acknowledged (acks=all).
 * Kafka recovers the segments past its recovery point after an unclean shutdown; Capstan replays its WAL and
 * recovers its shards. SIGKILL leaves the page cache in place: this is a process crash, not a machine's.
 *
 * <p>After the restart the shards must hold no fewer records than were acknowledged (their end offsets summed: a
 * count, not a check of each record).
 */
public final class RestartBench {
    static final List<BrokerKind> KINDS = List.of(BrokerKind.CAPSTAN, BrokerKind.KAFKA_DEFAULT);
    static final int SHARDS = 1_000;
    private static final int RECORD = 1024;

    /** One restart: the data it recovered and the times it took. */
    record Result(long records, double listeningSeconds, double servingSeconds) {}

    private final BrokerUnderTest.Classpaths cp;
    private final Path work;
    private final Consumer<String> progress;
    private final Map<BrokerKind, List<Result>> results = new EnumMap<>(BrokerKind.class);

    private final int shards;

    RestartBench(BrokerUnderTest.Classpaths cp, Path work, Consumer<String> progress) {
        this(cp, work, progress, SHARDS);
    }

    /** With fewer shards than the workload's 1,000: only for the harness's own smoke test. */
    RestartBench(BrokerUnderTest.Classpaths cp, Path work, Consumer<String> progress, int shards) {
        this.cp = cp;
        this.work = work;
        this.progress = progress;
        this.shards = shards;
    }

    void run(int reps, double scale) throws Exception {
        long records = Math.max(shards * 10L, Math.round(10L * (1L << 30) * scale / RECORD));
        for (int rep = 1; rep <= reps; rep++) {
            List<BrokerKind> order = new ArrayList<>(KINDS);
            if (rep % 2 == 0) {
                Collections.reverse(order);
            }
            for (BrokerKind kind : order) {
                progress.accept("== repetition " + rep + "/" + reps + ": " + kind.label());
                try (BrokerUnderTest broker = BrokerUnderTest.start(kind, work, cp)) {
                    Result r = restart(broker, records);
                    results.computeIfAbsent(kind, k -> new ArrayList<>()).add(r);
                    progress.accept(String.format(Locale.ROOT, "%s: %,d records of 1 KiB: listening after %.2f s, every shard acknowledged a produce after %.2f s",
                            kind.label(), r.records(), r.listeningSeconds(), r.servingSeconds()));
                }
            }
        }
    }

    private Result restart(BrokerUnderTest broker, long records) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic("i", shards, (short) 1))).all().get();
            TopicWait.untilEveryShard(admin, "i", p -> p.leader() != null, "had a leader");
        }
        fill(broker, records);
        progress.accept(broker.kind().label() + ": SIGKILL, then a restart on the same storage");
        long startedAt = broker.killAndRestart();
        double listening = (broker.awaitListening() - startedAt) / 1e9;
        double serving = (produceToEveryShard(broker) - startedAt) / 1e9;
        long kept = endOffsetsSum(broker);
        if (kept < records + shards) {
            // a count, not a check of each record: retries of the fill may have written some twice, never fewer
            throw new IllegalStateException(broker.kind().label() + " holds " + kept + " records after the restart; " + (records + shards)
                    + " were acknowledged");
        }
        return new Result(records, listening, serving);
    }

    /**
     * Writes the records round-robin over the shards, acks=all; progress every tenth. Not idempotent: Kafka 4.4 answered
     * an idempotent producer's first batches to a new 1,000-shard topic with OutOfOrderSequenceException on some shards
     * until the delivery timeout (as in (g)), and the fill is not what is measured.
     */
    private void fill(BrokerUnderTest broker, long records) throws Exception {
        Properties p = producerProps(broker);
        p.put("enable.idempotence", "false");
        p.put("linger.ms", "20");
        p.put("batch.size", "65536");
        AtomicReference<Exception> failed = new AtomicReference<>();
        byte[] value = new byte[RECORD];
        new java.util.Random(42).nextBytes(value);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            long tenth = Math.max(1, records / 10);
            for (long i = 0; i < records && failed.get() == null; i++) {
                producer.send(new ProducerRecord<>("i", (int) (i % shards), null, value), (md, e) -> {
                    if (e != null) {
                        failed.compareAndSet(null, e);
                    }
                });
                if ((i + 1) % tenth == 0) {
                    progress.accept(String.format(Locale.ROOT, "%s: filled %d %%", broker.kind().label(), (i + 1) * 100 / records));
                }
            }
            producer.flush();
        }
        if (failed.get() != null) {
            throw new IllegalStateException("filling " + broker.kind().label() + " failed", failed.get());
        }
    }

    /** Sends one record to every shard from a producer made at once; returns when the last is acknowledged. */
    private long produceToEveryShard(BrokerUnderTest broker) throws Exception {
        Properties p = producerProps(broker);
        // a client that tries again every 50 ms, so the figure is the broker's, not the client's back-off
        p.put("reconnect.backoff.ms", "50");
        p.put("reconnect.backoff.max.ms", "50");
        p.put("retry.backoff.ms", "50");
        p.put("retry.backoff.max.ms", "50");
        p.put("max.block.ms", "600000");
        p.put("request.timeout.ms", "30000");
        p.put("delivery.timeout.ms", "600000");
        CountDownLatch acked = new CountDownLatch(shards);
        AtomicLong last = new AtomicLong();
        Map<Integer, Exception> errors = new ConcurrentHashMap<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int shard = 0; shard < shards; shard++) {
                int s = shard;
                producer.send(new ProducerRecord<>("i", shard, null, new byte[RECORD]), (md, e) -> {
                    if (e != null) {
                        errors.put(s, e);
                    } else {
                        last.accumulateAndGet(System.nanoTime(), Math::max);
                    }
                    acked.countDown();
                });
            }
            if (!acked.await(10, TimeUnit.MINUTES)) {
                throw new IllegalStateException(broker.kind().label() + " did not acknowledge a record on every shard within 10 minutes of its restart");
            }
        }
        if (!errors.isEmpty()) {
            throw new IllegalStateException(broker.kind().label() + " refused " + errors.size() + " records after its restart, e.g. "
                    + errors.values().iterator().next());
        }
        return last.get();
    }

    private static Properties producerProps(BrokerUnderTest broker) {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrap());
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        return p;
    }

    private long endOffsetsSum(BrokerUnderTest broker) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrap()))) {
            Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
            for (int s = 0; s < shards; s++) {
                latest.put(new TopicPartition("i", s), OffsetSpec.latest());
            }
            return admin.listOffsets(latest).all().get(2, TimeUnit.MINUTES).values().stream().mapToLong(i -> i.offset()).sum();
        }
    }

    Summary.Spread spread(BrokerKind kind, java.util.function.ToDoubleFunction<Result> figure) {
        List<Result> rs = results.get(kind);
        return rs == null || rs.isEmpty() ? null : Summary.spreadOf(rs.stream().map(figure::applyAsDouble).toList());
    }

    /** docs/benchmarks-restart-results.md. */
    void write(Path out, int reps, double scale) throws Exception {
        StringBuilder t = new StringBuilder("| figure | Capstan (fsync before ack) | Kafka 4.4 (default) | Capstan ÷ Kafka |\n|---|---|---|---|\n");
        row(t, "restart until the port accepts connections, s", Result::listeningSeconds);
        row(t, "restart until every shard acknowledged a produce, s", Result::servingSeconds);
        String body = "# Restart benchmark results (generated)\n\n"
                + "Generated by `bench/run --restart --reps " + reps + " --scale " + scale + BenchMain.capstanSettings() + "` on " + Instant.now() + ".\n\n"
                + "One broker of each kind, fresh storage per repetition, alternating order: " + shards + " shards of 1 KiB records, "
                + results.values().stream().findFirst().map(l -> String.format(Locale.ROOT, "%,d", l.get(0).records())).orElse("?")
                + " records in all, written with acks=all; then SIGKILL (the page cache survives: a process crash) and the same command "
                + "on the same storage. Times are from the new process's start; medians of " + reps + " repetitions (min–max). "
                + "After each restart every shard's end offset was read: together no fewer records than were acknowledged "
                + "(a count, not a check of each record).\n\n" + t;
        Files.createDirectories(out);
        Files.writeString(out.resolve("benchmarks-restart-results.md"), body);
        System.out.println(body);
        System.out.println("wrote " + out.resolve("benchmarks-restart-results.md") + "; logs in " + work);
    }

    private void row(StringBuilder t, String label, java.util.function.ToDoubleFunction<Result> figure) {
        Summary.Spread c = spread(BrokerKind.CAPSTAN, figure);
        Summary.Spread k = spread(BrokerKind.KAFKA_DEFAULT, figure);
        t.append("| ").append(label).append(" | ").append(Report.cell(c)).append(" | ").append(Report.cell(k)).append(" | ")
                .append(Report.ratio(c == null || k == null || k.median() == 0 ? Double.NaN : c.median() / k.median())).append(" |\n");
    }

    static void main(Path repo, int reps, double scale, Path out) throws Exception {
        RestartBench bench = new RestartBench(BrokerUnderTest.Classpaths.detect(repo), Files.createTempDirectory("capstan-bench"),
                line -> System.out.printf("%s %s%n", Instant.now().toString().substring(11, 19), line));
        bench.run(reps, scale);
        bench.write(out, reps, scale);
    }
}
