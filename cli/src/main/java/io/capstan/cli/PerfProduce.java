package io.capstan.cli;

import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Produces fixed-size records as fast as allowed and reports throughput and acknowledgement latency. */
@Command(name = "produce", mixinStandardHelpOptions = true, description = "Producer load test with per-second progress.")
final class PerfProduce implements Callable<Integer> {
    @Mixin ClientOptions client;
    @Option(names = {"-t", "--topic"}, required = true, description = "Topic (must exist).") String topic;
    @Option(names = {"-n", "--records"}, defaultValue = "1000000", description = "Records to send (default ${DEFAULT-VALUE}).") long count;
    @Option(names = {"-s", "--record-size"}, defaultValue = "1024", description = "Value size in bytes (default ${DEFAULT-VALUE}).") int size;
    @Option(names = "--acks", defaultValue = "all", description = "0, 1 or all (default ${DEFAULT-VALUE}).") String acks;
    @Option(names = "--throughput", defaultValue = "-1", description = "Records/s limit, -1 for none (default ${DEFAULT-VALUE}).") long throughput;
    @Option(names = "--linger-ms", defaultValue = "5", description = "Producer linger.ms (default ${DEFAULT-VALUE}).") int lingerMs;
    @Option(names = "--batch-size", defaultValue = "65536", description = "Producer batch.size (default ${DEFAULT-VALUE}).") int batchSize;

    @Override
    public Integer call() throws Exception {
        ProgressReporter.Summary s = run(System.out);
        return s == null ? 1 : 0;
    }

    ProgressReporter.Summary run(java.io.PrintStream out) throws Exception {
        Properties props = client.props();
        props.put("acks", acks);
        props.put("linger.ms", String.valueOf(lingerMs));
        props.put("batch.size", String.valueOf(batchSize));
        props.put("enable.idempotence", String.valueOf(!"0".equals(acks) && !"1".equals(acks)));
        byte[] payload = new byte[size];
        new SplittableRandom(42).nextBytes(payload);
        AtomicReference<Exception> failure = new AtomicReference<>();
        ProgressReporter.Summary summary;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
             ProgressReporter progress = new ProgressReporter("produce", out)) {
            long start = System.nanoTime();
            for (long i = 0; i < count && failure.get() == null; i++) {
                if (throughput > 0) {
                    pace(start, i);
                }
                long sentAt = System.nanoTime();
                producer.send(new ProducerRecord<>(topic, payload), (md, e) -> {
                    if (e != null) {
                        failure.compareAndSet(null, e);
                    } else {
                        progress.record(size, (System.nanoTime() - sentAt) / 1000);
                    }
                });
            }
            producer.flush();
            summary = progress.summary();
        }
        if (failure.get() != null) {
            System.err.println("error: " + Errors.describe(failure.get()));
            return null;
        }
        out.println(summary.line("produce"));
        return summary;
    }

    private void pace(long start, long sent) throws InterruptedException {
        long due = start + sent * 1_000_000_000L / throughput;
        long wait = due - System.nanoTime();
        if (wait > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(wait);
        }
    }
}
