package io.capstan.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Compaction side by side ({@code bench/run --compaction}): on each broker, a producer updates {@code keys} keys
 * {@code updates} times each at a fixed rate, once into a compacted topic and once into a topic with the delete policy
 * (no cleaner work), and reports produce acknowledgement latency for both, and the bytes the broker's data files take
 * every few seconds during the compacted run and for a while after it. Kafka's compacted topic gets segment.bytes=8 MiB:
 * with its default 1 GiB nothing would roll, and Kafka never compacts the active segment. Both brokers keep their
 * cleaner defaults otherwise (min.cleanable.dirty.ratio 0.5, log.cleaner.backoff.ms 15 s).
 */
public final class CompactionBench {
    private static final int VALUE_BYTES = 100;

    /** One broker's figures: latency percentiles (ms) per topic kind, and disk bytes over time (seconds → bytes). */
    public record Result(BrokerKind kind, double compactedP50, double compactedP99, double plainP50, double plainP99,
                         Map<Integer, Long> diskOverTime, long peakBytes, long finalBytes) {}

    private CompactionBench() {}

    static List<Result> run(BrokerUnderTest.Classpaths cp, Path work, int keys, int updates, int rate, int settleSeconds,
                            java.util.function.Consumer<String> progress) throws Exception {
        List<Result> results = new ArrayList<>();
        for (BrokerKind kind : List.of(BrokerKind.CAPSTAN, BrokerKind.KAFKA_DEFAULT)) {
            try (BrokerUnderTest broker = BrokerUnderTest.start(kind, work, cp)) {
                try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrap()))) {
                    Map<String, String> compacted = new LinkedHashMap<>(Map.of("cleanup.policy", "compact"));
                    if (!kind.capstan()) {
                        compacted.put("segment.bytes", String.valueOf(8 << 20));
                    }
                    admin.createTopics(List.of(new NewTopic("compacted", 1, (short) 1).configs(compacted),
                            new NewTopic("plain", 1, (short) 1))).all().get();
                }
                progress.accept(kind.label() + ": " + keys + " keys x " + updates + " updates at " + rate + "/s into a delete-policy topic");
                double[] plain = produce(broker.bootstrap(), "plain", keys, updates, rate, null);
                progress.accept(kind.label() + ": the same into a compacted topic, sampling disk use");
                Map<Integer, Long> disk = new LinkedHashMap<>();
                long start = System.nanoTime();
                double[] compacted = produce(broker.bootstrap(), "compacted", keys, updates, rate, () -> sample(broker, start, disk));
                long settleUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(settleSeconds);
                while (System.nanoTime() < settleUntil) {
                    sample(broker, start, disk);
                    Thread.sleep(1000);
                }
                long peak = disk.values().stream().mapToLong(Long::longValue).max().orElse(0);
                long last = disk.isEmpty() ? 0 : new ArrayList<>(disk.values()).get(disk.size() - 1);
                results.add(new Result(kind, compacted[0], compacted[1], plain[0], plain[1], disk, peak, last));
                progress.accept(String.format(Locale.ROOT, "%s: compacted p50 %.1f p99 %.1f ms; delete-policy p50 %.1f p99 %.1f ms;"
                        + " data peak %.1f MB, after %d s settling %.1f MB", kind.label(), compacted[0], compacted[1], plain[0], plain[1],
                        peak / 1e6, settleSeconds, last / 1e6));
            }
        }
        return results;
    }

    private static void sample(BrokerUnderTest broker, long start, Map<Integer, Long> disk) {
        int second = (int) TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        if (!disk.containsKey(second)) {
            disk.put(second, broker.dataBytes());
        }
    }

    /**
     * Sends {@code keys * updates} records of {@value #VALUE_BYTES} bytes, key i's u-th update after every key's
     * (u-1)-th, paced to {@code rate} a second (acks=all, idempotent); returns the p50 and p99 acknowledgement latency in
     * ms, the first second left out as client warm-up. {@code tick} runs about once a second.
     */
    static double[] produce(String bootstrap, String topic, int keys, int updates, int rate, Runnable tick) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        p.put("linger.ms", "5");
        long total = (long) keys * updates;
        long[] latencies = new long[(int) total];
        AtomicInteger acked = new AtomicInteger();
        byte[] value = new byte[VALUE_BYTES];
        long started = System.nanoTime();
        long nextTick = started;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < total; i++) {
                long due = started + (long) (i * (1e9 / rate));
                long now;
                while ((now = System.nanoTime()) < due) {
                    java.util.concurrent.locks.LockSupport.parkNanos(Math.min(due - now, 1_000_000));
                }
                if (tick != null && now >= nextTick) {
                    tick.run();
                    nextTick = now + 1_000_000_000L;
                }
                byte[] key = ("key-" + (i % keys)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                int index = i;
                long sent = System.nanoTime();
                producer.send(new ProducerRecord<>(topic, key, value), (md, e) -> {
                    if (e != null) {
                        throw new IllegalStateException("produce failed: " + e, e);
                    }
                    latencies[index] = System.nanoTime() - sent;
                    acked.incrementAndGet();
                });
            }
            producer.flush();
        }
        if (acked.get() != total) {
            throw new IllegalStateException("only " + acked.get() + " of " + total + " records were acknowledged");
        }
        int warmup = (int) Math.min(rate, total / 5);
        long[] steady = Arrays.copyOfRange(latencies, warmup, latencies.length);
        Arrays.sort(steady);
        return new double[] {steady[steady.length / 2] / 1e6, steady[(int) (steady.length * 0.99)] / 1e6};
    }

    static void write(List<Result> results, Path out, int keys, int updates, int rate, int settleSeconds) throws Exception {
        StringBuilder md = new StringBuilder("# Compaction benchmark results (generated)\n\n")
                .append("Generated by `bench/run --compaction` on ").append(Instant.now()).append(": ").append(keys).append(" keys updated ")
                .append(updates).append(" times each (").append(VALUE_BYTES).append("-byte values) at ").append(rate)
                .append(" records/s, acks=all, idempotent, one shard; Kafka 4.4.0's compacted topic with segment.bytes=8 MiB.\n\n")
                .append("| broker | ack p50, compacted topic (ms) | ack p99, compacted topic (ms) | ack p50, delete policy (ms) | ack p99, delete policy (ms) | data peak (MB) | data after ")
                .append(settleSeconds).append(" s settling (MB) |\n|---|---|---|---|---|---|---|\n");
        for (Result r : results) {
            md.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |%n", r.kind().label(), r.compactedP50(),
                    r.compactedP99(), r.plainP50(), r.plainP99(), r.peakBytes() / 1e6, r.finalBytes() / 1e6));
        }
        md.append("\nData files over time during the compacted run and after it (MB, every 10 s):\n\n| s |");
        results.forEach(r -> md.append(' ').append(r.kind().label()).append(" |"));
        md.append("\n|---|").append("---|".repeat(results.size())).append('\n');
        int last = results.stream().mapToInt(r -> r.diskOverTime().keySet().stream().mapToInt(Integer::intValue).max().orElse(0)).max().orElse(0);
        for (int s = 0; s <= last; s += 10) {
            md.append("| ").append(s).append(" |");
            for (Result r : results) {
                Long b = nearest(r.diskOverTime(), s);
                md.append(' ').append(b == null ? "" : String.format(Locale.ROOT, "%.1f", b / 1e6)).append(" |");
            }
            md.append('\n');
        }
        Files.createDirectories(out);
        Files.writeString(out.resolve("benchmarks-compaction-results.md"), md);
        System.out.println(md);
        System.out.println("wrote " + out.resolve("benchmarks-compaction-results.md"));
    }

    private static Long nearest(Map<Integer, Long> series, int second) {
        for (int s = second; s < second + 10; s++) {
            if (series.containsKey(s)) {
                return series.get(s);
            }
        }
        return null;
    }
}
