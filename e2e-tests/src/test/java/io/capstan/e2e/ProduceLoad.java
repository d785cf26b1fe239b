package io.capstan.e2e;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * An application producing at a steady rate while the cluster changes under it: an idempotent acks=all producer whose
 * every acknowledgement is recorded, and every error it would see (a send not acknowledged within its delivery
 * timeout) kept, so a scenario can assert that the application noticed nothing and lost nothing. The delivery timeout
 * bounds the outage a scenario tolerates: longer, and the application would have seen an error.
 */
public final class ProduceLoad implements AutoCloseable {
    public final Map<Long, AcknowledgedRecords.Ack> acked = new ConcurrentHashMap<>();
    public final List<Exception> errors = new CopyOnWriteArrayList<>();
    /** Each acknowledgement as {send time, ack latency} in nanoseconds, so a scenario can read latencies over a span. */
    private final java.util.concurrent.ConcurrentLinkedQueue<long[]> latencies = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final KafkaProducer<byte[], byte[]> producer;
    private final Thread thread;
    private volatile boolean running = true;

    public ProduceLoad(String bootstrap, String topic, int partitions, int perSecond, Duration deliveryTimeout) {
        this(AcknowledgedRecords.durableProducer(bootstrap), topic, partitions, perSecond, deliveryTimeout);
    }

    /** Over a connection described by {@code client} (bootstrap servers and security settings). */
    public ProduceLoad(Properties client, String topic, int partitions, int perSecond, Duration deliveryTimeout) {
        Properties p = AcknowledgedRecords.durableProducer(client);
        p.put("delivery.timeout.ms", String.valueOf(deliveryTimeout.toMillis()));
        p.put("request.timeout.ms", String.valueOf(Math.min(15_000, deliveryTimeout.toMillis() / 2)));
        p.put("max.block.ms", String.valueOf(deliveryTimeout.toMillis()));
        producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        long intervalNanos = TimeUnit.SECONDS.toNanos(1) / perSecond;
        thread = new Thread(() -> {
            long next = System.nanoTime();
            for (long seq = 0; running; seq++) {
                long s = seq;
                long sentAt = System.nanoTime();
                try {
                    producer.send(new ProducerRecord<>(topic, (int) (seq % partitions), null, AcknowledgedRecords.value(seq)), (md, e) -> {
                        if (e == null) {
                            latencies.add(new long[] {sentAt, System.nanoTime() - sentAt});
                            acked.put(s, new AcknowledgedRecords.Ack(md.partition(), md.offset(), s));
                        } else {
                            errors.add(e);
                        }
                    });
                } catch (RuntimeException e) {
                    errors.add(e);
                }
                next += intervalNanos;
                LockSupport.parkNanos(next - System.nanoTime()); // pacing, not synchronisation
            }
        }, "produce-load-" + topic);
        thread.start();
    }

    /** Waits until {@code n} more records than now have been acknowledged: the load is flowing. */
    public void awaitMoreAcknowledged(int n) {
        int target = acked.size() + n;
        await("the producer's acknowledgements keep coming").atMost(Duration.ofMinutes(2)).until(() -> acked.size() >= target);
    }

    /**
     * The {@code percentile} (0-100) of acknowledgement latency, in ms, of the records sent between {@code fromNanos}
     * and {@code toNanos} (System.nanoTime()), and how many there were: {percentile, count}.
     */
    public double[] ackLatencyMs(double percentile, long fromNanos, long toNanos) {
        long[] within = latencies.stream().filter(l -> l[0] >= fromNanos && l[0] <= toNanos).mapToLong(l -> l[1]).sorted().toArray();
        if (within.length == 0) {
            return new double[] {Double.NaN, 0};
        }
        int index = (int) Math.min(within.length - 1, Math.ceil(percentile / 100 * within.length) - 1);
        return new double[] {within[Math.max(0, index)] / 1e6, within.length};
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join();
        producer.flush();
        producer.close(Duration.ofMinutes(2));
    }
}
