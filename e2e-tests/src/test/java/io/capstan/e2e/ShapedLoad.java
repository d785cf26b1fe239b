package io.capstan.e2e;

import java.util.HashMap;
import java.util.Properties;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The fault tests' producer load: self-describing records ({@link AcknowledgedRecords#value}) numbered from 0, sent
 * round-robin over a topic's shards at a fixed rate by one thread, each acknowledgement kept with its offset and
 * timing. The first send error stops the load and is kept for the test to assert on.
 */
final class ShapedLoad {
    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final int shards;
    private final long ratePerSecond;
    private final Map<Long, AcknowledgedRecords.Ack> acked = new ConcurrentHashMap<>();
    private final AckTimes times;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean running = true;

    ShapedLoad(KafkaProducer<byte[], byte[]> producer, String topic, int shards, long ratePerSecond) {
        this.producer = producer;
        this.topic = topic;
        this.shards = shards;
        this.ratePerSecond = ratePerSecond;
        this.times = new AckTimes(shards);
        this.thread = new Thread(this::run, "shaped-load-" + topic);
        thread.setDaemon(true); // a failed test must not leave it holding the JVM
        thread.start();
    }

    private void run() {
        long start = System.nanoTime();
        while (running && failure.get() == null) {
            long seq = sent.getAndIncrement();
            LockSupport.parkNanos(start + seq * 1_000_000_000L / ratePerSecond - System.nanoTime()); // shaping, not synchronisation
            long sentAt = System.nanoTime();
            producer.send(new ProducerRecord<>(topic, (int) (seq % shards), null, AcknowledgedRecords.value(seq)), (md, e) -> {
                if (e != null) {
                    failure.compareAndSet(null, e);
                } else {
                    acked.put(seq, new AcknowledgedRecords.Ack(md.partition(), md.offset(), seq));
                    times.acknowledged(md.partition(), sentAt);
                }
            });
        }
    }

    /** Stops sending (records already handed to the producer are still delivered or fail). */
    void stop() throws InterruptedException {
        running = false;
        thread.join();
    }

    /**
     * The end of a run: stops sending, waits until every record handed to the producer is delivered or failed, and
     * asserts that none failed and that every record sent was acknowledged and is in the log once, at its
     * acknowledged offset ({@link AcknowledgedRecords#verify}). Closes the producer; returns how many were checked.
     */
    long finishAndVerify(Properties client, int shards) throws InterruptedException {
        finish();
        org.assertj.core.api.Assertions.assertThat(failure()).as("producer error").isNull();
        long verified = AcknowledgedRecords.verify(client, topic, shards, acknowledged());
        org.assertj.core.api.Assertions.assertThat(verified).as("records acknowledged and checked, of those sent").isEqualTo(sent());
        return verified;
    }

    /**
     * The end of a run of a producer that may lose and duplicate (acks=1, no idempotence): stops, waits for every record
     * handed to the producer, and counts what the log lost and duplicated ({@link AcknowledgedRecords#tally}). A send
     * error stops such a load early: the records after it were never sent, which the tally reflects.
     */
    AcknowledgedRecords.Tally finishAndTally(Properties client, int shards) throws InterruptedException {
        finish();
        return AcknowledgedRecords.tally(client, topic, shards, acknowledged(), sent());
    }

    /** Stops sending and waits until every record handed to the producer is delivered or failed. */
    private void finish() throws InterruptedException {
        stop();
        producer.flush();
        producer.close(java.time.Duration.ofSeconds(60));
    }

    AckTimes times() {
        return times;
    }

    /** Records handed to the producer so far. */
    long sent() {
        return sent.get();
    }

    int acknowledgedCount() {
        return acked.size();
    }

    /** A copy of what was acknowledged so far, by sequence number. */
    Map<Long, AcknowledgedRecords.Ack> acknowledged() {
        return new HashMap<>(acked);
    }

    /** The first send error, or null. */
    Exception failure() {
        return failure.get();
    }
}
