package io.capstan.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Reads a topic from the beginning and reports throughput; latency is now minus the record's create time. */
@Command(name = "consume", mixinStandardHelpOptions = true, description = "Consumer load test with per-second progress.")
final class PerfConsume implements Callable<Integer> {
    @Mixin ClientOptions client;
    @Option(names = {"-t", "--topic"}, required = true, description = "Topic to read.") String topic;
    @Option(names = {"-n", "--records"}, defaultValue = "1000000", description = "Stop after this many records (default ${DEFAULT-VALUE}).") long count;
    @Option(names = "--timeout-ms", defaultValue = "30000", description = "Give up after this long without records (default ${DEFAULT-VALUE}).") long timeoutMs;

    @Override
    public Integer call() {
        ProgressReporter.Summary s = run(System.out);
        return s.records() >= count ? 0 : 1;
    }

    ProgressReporter.Summary run(java.io.PrintStream out) {
        Properties props = client.props();
        props.put("enable.auto.commit", "false");
        props.put("fetch.max.bytes", String.valueOf(64 << 20));
        props.put("max.partition.fetch.bytes", String.valueOf(8 << 20));
        props.put("max.poll.records", "10000");
        ProgressReporter.Summary summary;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
             ProgressReporter progress = new ProgressReporter("consume", out)) {
            List<TopicPartition> tps = new ArrayList<>();
            consumer.partitionsFor(topic, Duration.ofSeconds(30)).forEach(p -> tps.add(new TopicPartition(topic, p.partition())));
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            long last = System.currentTimeMillis();
            while (progress.records() < count && System.currentTimeMillis() - last < timeoutMs) {
                var records = consumer.poll(Duration.ofMillis(500));
                long nowMs = System.currentTimeMillis();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    progress.record(r.serializedValueSize() + Math.max(0, r.serializedKeySize()), (nowMs - r.timestamp()) * 1000);
                }
                if (!records.isEmpty()) {
                    last = nowMs;
                }
            }
            summary = progress.summary();
        }
        out.println(summary.line("consume"));
        if (summary.records() < count) {
            System.err.println("error: only " + summary.records() + " of " + count + " records arrived within --timeout-ms=" + timeoutMs);
        }
        return summary;
    }
}
