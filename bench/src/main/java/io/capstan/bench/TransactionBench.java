package io.capstan.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Transactions side by side ({@code bench/run --transactions}): on each broker, one transactional producer runs
 * {@code transactions} transactions of {@code perTxn} 1 KiB records spread over three shards, back to back, and a
 * read_committed consumer then reads them all. Reported: the time from beginTransaction to commitTransaction's return
 * (p50, p99, the first tenth left out as warm-up), committed records per second, and the read_committed read rate.
 */
public final class TransactionBench {
    private static final int VALUE_BYTES = 1024;
    private static final int PARTITIONS = 3;

    public record Result(BrokerKind kind, double commitP50Ms, double commitP99Ms, double recordsPerSecond, double readRecordsPerSecond) {}

    private TransactionBench() {}

    static List<Result> run(BrokerUnderTest.Classpaths cp, Path work, int transactions, int perTxn, java.util.function.Consumer<String> progress)
            throws Exception {
        List<Result> results = new ArrayList<>();
        for (BrokerKind kind : List.of(BrokerKind.CAPSTAN, BrokerKind.KAFKA_DEFAULT)) {
            try (BrokerUnderTest broker = BrokerUnderTest.start(kind, work, cp)) {
                try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrap()))) {
                    admin.createTopics(List.of(new NewTopic("txn", PARTITIONS, (short) 1))).all().get();
                }
                progress.accept(kind.label() + ": " + transactions + " transactions of " + perTxn + " records");
                long[] commits = new long[transactions];
                long started = System.nanoTime();
                Properties p = new Properties();
                p.put("bootstrap.servers", broker.bootstrap());
                p.put("transactional.id", "bench");
                p.put("linger.ms", "5");
                byte[] value = new byte[VALUE_BYTES];
                try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
                    producer.initTransactions();
                    for (int t = 0; t < transactions; t++) {
                        long begin = System.nanoTime();
                        producer.beginTransaction();
                        for (int r = 0; r < perTxn; r++) {
                            producer.send(new ProducerRecord<>("txn", r % PARTITIONS, null, value));
                        }
                        producer.commitTransaction();
                        commits[t] = System.nanoTime() - begin;
                        if ((t + 1) % Math.max(1, transactions / 10) == 0) {
                            progress.accept(String.format(Locale.ROOT, "%s: %d/%d transactions", kind.label(), t + 1, transactions));
                        }
                    }
                }
                double seconds = (System.nanoTime() - started) / 1e9;
                long total = (long) transactions * perTxn;
                double readRate = readAll(broker.bootstrap(), total);
                long[] steady = Arrays.copyOfRange(commits, transactions / 10, transactions);
                Arrays.sort(steady);
                Result result = new Result(kind, steady[steady.length / 2] / 1e6, steady[(int) (steady.length * 0.99)] / 1e6,
                        total / seconds, readRate);
                results.add(result);
                progress.accept(String.format(Locale.ROOT, "%s: commit p50 %.1f ms, p99 %.1f ms; %.0f records/s committed; read_committed %.0f records/s",
                        kind.label(), result.commitP50Ms(), result.commitP99Ms(), result.recordsPerSecond(), result.readRecordsPerSecond()));
            }
        }
        return results;
    }

    /** Reads every committed record with read_committed from the start; returns records per second. */
    private static double readAll(String bootstrap, long expected) {
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            tps.add(new TopicPartition("txn", p));
        }
        long read = 0;
        long started = System.nanoTime();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap, "isolation.level", "read_committed"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            c.assign(tps);
            c.seekToBeginning(tps);
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (read < expected && System.nanoTime() < deadline) {
                read += c.poll(Duration.ofMillis(200)).count();
            }
        }
        if (read != expected) {
            throw new IllegalStateException("read_committed read " + read + " records, expected " + expected);
        }
        return read / ((System.nanoTime() - started) / 1e9);
    }

    /** One workload's results: this many transactions of this many records, on each broker. */
    record Run(int transactions, int perTxn, List<Result> results) {}

    static void write(List<Result> results, Path out, int transactions, int perTxn) throws Exception {
        write(List.of(new Run(transactions, perTxn, results)), out);
    }

    static void write(List<Run> runs, Path out) throws Exception {
        StringBuilder md = new StringBuilder("# Transaction benchmark results (generated)\n\n")
                .append("Generated by `bench/run --transactions` on ").append(Instant.now()).append(": one transactional producer (kafka-clients 4.4.0, ")
                .append("linger.ms=5; transaction version 2 on Capstan, Kafka formatted with its defaults) writing ").append(VALUE_BYTES).append("-byte records over ")
                .append(PARTITIONS).append(" shards, transactions back to back; then a read_committed consumer reads them all. ")
                .append("One broker each, one repetition; commit times leave out the first tenth.\n");
        for (Run run : runs) {
            md.append("\n## ").append(run.transactions()).append(" transactions of ").append(run.perTxn()).append(" records\n\n")
                    .append("| broker | begin to commit p50 (ms) | p99 (ms) | committed records/s | read_committed records/s |\n|---|---|---|---|---|\n");
            for (Result r : run.results()) {
                md.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.0f | %.0f |%n", r.kind().label(), r.commitP50Ms(), r.commitP99Ms(),
                        r.recordsPerSecond(), r.readRecordsPerSecond()));
            }
            if (run.results().size() == 2) {
                Result c = run.results().get(0);
                Result k = run.results().get(1);
                md.append(String.format(Locale.ROOT, "%nCapstan / Kafka: commit p50 %.2f, committed records/s %.2f, read_committed records/s %.2f.%n",
                        c.commitP50Ms() / k.commitP50Ms(), c.recordsPerSecond() / k.recordsPerSecond(), c.readRecordsPerSecond() / k.readRecordsPerSecond()));
            }
        }
        Files.createDirectories(out);
        Files.writeString(out.resolve("benchmarks-transactions-results.md"), md);
        System.out.println(md);
        System.out.println("wrote " + out.resolve("benchmarks-transactions-results.md"));
    }
}
