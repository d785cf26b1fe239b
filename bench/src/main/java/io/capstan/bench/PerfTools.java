package io.capstan.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs Apache Kafka's own ProducerPerformance and ConsumerPerformance in their own JVMs and reads their summaries. */
public final class PerfTools {
    private static final Pattern PRODUCER_SUMMARY = Pattern.compile(
            "(\\d+) (?:steady state )?records sent, ([\\d.]+) records/sec \\(([\\d.]+) MB/sec\\), ([\\d.]+) ms avg latency, ([\\d.]+) ms max latency, "
                    + "(\\d+) ms 50th, (\\d+) ms 95th, (\\d+) ms 99th, (\\d+) ms 99.9th");

    private final String kafkaClasspath;
    private final Path logDir;

    public PerfTools(String kafkaClasspath, Path logDir) {
        this.kafkaClasspath = kafkaClasspath;
        this.logDir = logDir;
    }

    /** The producer tool's summary line, parsed. */
    public record ProducerResult(long records, double recordsPerSec, double mbPerSec, double p50Ms, double p99Ms, double p999Ms) {}

    /** The consumer tool's fetch throughput (excluding group join time). */
    public record ConsumerResult(long records, double fetchMbPerSec, double fetchRecordsPerSec) {}

    /** Starts one producer run; the same client settings for every broker: the tool's and the client's defaults. */
    public Process startProducer(String bootstrap, String topic, long records, int recordSize, long throughput, String tag) throws IOException {
        return startProducer(bootstrap, null, topic, records, recordSize, throughput, 0, tag);
    }

    /** As above; the first {@code warmup} records are left out of the summary (client JIT and connection set-up). */
    public Process startProducer(String bootstrap, String topic, long records, int recordSize, long throughput, long warmup,
                                 String tag) throws IOException {
        return startProducer(bootstrap, null, topic, records, recordSize, throughput, warmup, tag);
    }

    /** As above against a secured broker: {@code clientConfig} holds the security settings (null in the clear). */
    public Process startProducer(String bootstrap, java.nio.file.Path clientConfig, String topic, long records, int recordSize,
                                 long throughput, long warmup, String tag) throws IOException {
        return startProducer(bootstrap, clientConfig, topic, records, recordSize, throughput, warmup, true, tag);
    }

    /** As above, with the producer idempotent or not (acks=all either way). */
    public Process startProducer(String bootstrap, java.nio.file.Path clientConfig, String topic, long records, int recordSize,
                                 long throughput, long warmup, boolean idempotent, String tag) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(BrokerUnderTest.java(), "-Xmx512m", "-cp", kafkaClasspath,
                "org.apache.kafka.tools.ProducerPerformance", "--bootstrap-server", bootstrap, "--topic", topic,
                "--num-records", String.valueOf(records), "--record-size", String.valueOf(recordSize),
                "--throughput", String.valueOf(throughput), "--producer-props", "acks=all", "enable.idempotence=" + idempotent));
        if (warmup > 0) {
            cmd.addAll(List.of("--warmup-records", String.valueOf(warmup)));
        }
        if (clientConfig != null) {
            cmd.addAll(List.of("--command-config", clientConfig.toString()));
        }
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logDir.resolve(tag + ".log").toFile()).start();
    }

    /** The last summary line: with warm-up records, the tool prints the steady-state summary after the overall one. */
    public ProducerResult awaitProducer(Process p, String tag) throws IOException, InterruptedException {
        String out = await(p, tag);
        Matcher m = PRODUCER_SUMMARY.matcher(out);
        ProducerResult last = null;
        while (m.find()) {
            last = new ProducerResult(Long.parseLong(m.group(1)), Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3)),
                    Double.parseDouble(m.group(6)), Double.parseDouble(m.group(8)), Double.parseDouble(m.group(9)));
        }
        if (last == null) {
            throw new IllegalStateException("no summary from ProducerPerformance; see " + logDir.resolve(tag + ".log"));
        }
        return last;
    }

    public ConsumerResult consume(String bootstrap, String topic, long records, String tag) throws IOException, InterruptedException {
        return consume(bootstrap, null, topic, records, tag);
    }

    public ConsumerResult consume(String bootstrap, java.nio.file.Path clientConfig, String topic, long records, String tag)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(BrokerUnderTest.java(), "-Xmx512m", "-cp", kafkaClasspath, "org.apache.kafka.tools.ConsumerPerformance",
                "--bootstrap-server", bootstrap, "--topic", topic, "--num-records", String.valueOf(records), "--timeout", "120000",
                "--group", "bench-" + tag));
        if (clientConfig != null) {
            cmd.addAll(List.of("--command-config", clientConfig.toString()));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logDir.resolve(tag + ".log").toFile()).start();
        String out = await(p, tag);
        String[] lines = out.strip().split("\n");
        String[] f = lines[lines.length - 1].split(",\\s*");
        if (f.length < 10) {
            throw new IllegalStateException("no summary from ConsumerPerformance; see " + logDir.resolve(tag + ".log"));
        }
        return new ConsumerResult(Long.parseLong(f[4].trim()), Double.parseDouble(f[8].trim()), Double.parseDouble(f[9].trim()));
    }

    private String await(Process p, String tag) throws IOException, InterruptedException {
        if (!p.waitFor(30, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException(tag + " did not finish in 30 minutes");
        }
        String out = Files.readString(logDir.resolve(tag + ".log"), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IllegalStateException(tag + " failed (exit " + p.exitValue() + "); see " + logDir.resolve(tag + ".log"));
        }
        return out;
    }
}
