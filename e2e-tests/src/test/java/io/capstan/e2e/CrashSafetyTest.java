package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The durability promise under real crashes: a broker JVM is SIGKILLed at random moments while an idempotent
 * acks=all producer writes; after every restart, every acknowledged record must be in the log exactly once, at
 * the offset it was acknowledged with, byte for byte, in send order. Cycles: -Dcapstan.crash.cycles (CI: 5);
 * load: -Dcapstan.crash.rate records/s (default 5000).
 */
class CrashSafetyTest {
    static final String TOPIC = "crash";
    static final int PARTITIONS = 3;

    @TempDir
    Path dir;

    /** What the producer was told: partition and offset of each acknowledged value. */
    record Ack(int partition, long offset, long seq) {}

    @Test
    void everyAcknowledgedRecordSurvivesRepeatedSigkill() throws Exception {
        int cycles = Integer.getInteger("capstan.crash.cycles", 5);
        long seed = Long.getLong("capstan.crash.seed", System.nanoTime());
        Random random = new Random(seed);
        Path logs = Path.of("target", "crash-logs");
        Map<Long, Ack> acked = new ConcurrentHashMap<>();
        AtomicReference<Exception> sendFailure = new AtomicReference<>();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong nextSeq = new AtomicLong();
        long totalVerified = 0;
        try (BrokerProcess broker = new BrokerProcess(dir.resolve("data"), logs, Map.of())) {
            broker.start();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrap()))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get();
            }
            KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps(broker), new ByteArraySerializer(), new ByteArraySerializer());
            long rate = Long.getLong("capstan.crash.rate", 5_000);
            Thread load = new Thread(() -> {
                long start = System.nanoTime();
                while (running.get() && sendFailure.get() == null) {
                    long seq = nextSeq.getAndIncrement();
                    // a steady rate keeps each verification small; the pace is load shaping, not synchronisation
                    long due = start + seq * 1_000_000_000L / rate;
                    java.util.concurrent.locks.LockSupport.parkNanos(due - System.nanoTime());
                    producer.send(new ProducerRecord<>(TOPIC, (int) (seq % PARTITIONS), null, value(seq)), (md, e) -> {
                        if (e != null) {
                            sendFailure.compareAndSet(null, e);
                        } else {
                            acked.put(seq, new Ack(md.partition(), md.offset(), seq));
                        }
                    });
                }
            }, "crash-load");
            load.start();
            for (int cycle = 1; cycle <= cycles; cycle++) {
                long before = acked.size();
                Thread.sleep(300 + random.nextInt(1500)); // load runs for a random while: this is the fault schedule, not synchronisation
                Map<Long, Ack> snapshot = new HashMap<>(acked);
                broker.kill();
                broker.start();
                long verified = verify(broker, snapshot);
                totalVerified = verified;
                System.out.printf("cycle %d/%d: SIGKILL with %d records acknowledged (%d new this cycle); after restart all %d verified%n",
                        cycle, cycles, snapshot.size(), snapshot.size() - before, verified);
                assertThat(sendFailure.get()).as("producer error").isNull();
            }
            running.set(false);
            load.join();
            producer.flush();
            producer.close(Duration.ofSeconds(60));
            assertThat(sendFailure.get()).as("producer error").isNull();
            long finalCount = verify(broker, new HashMap<>(acked));
            System.out.printf("crash test: seed %d, %d SIGKILL cycles, %d records acknowledged, 0 lost, 0 duplicated%n", seed, cycles, finalCount);
            assertThat(finalCount).isEqualTo(nextSeq.get());
            assertThat(totalVerified).isPositive();
        }
    }

    /** Reads every partition from the beginning and checks the acknowledged records against it; returns how many were checked. */
    private static long verify(BrokerProcess broker, Map<Long, Ack> expected) {
        Map<Integer, List<ConsumerRecord<byte[], byte[]>>> logs = readAll(broker);
        Set<Long> seen = new HashSet<>();
        Map<Integer, Map<Long, ConsumerRecord<byte[], byte[]>>> byOffset = new HashMap<>();
        for (var e : logs.entrySet()) {
            long expectOffset = 0;
            long lastSeq = -1;
            Map<Long, ConsumerRecord<byte[], byte[]>> index = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : e.getValue()) {
                assertThat(r.offset()).as("offsets are dense in partition " + e.getKey()).isEqualTo(expectOffset++);
                long seq = seqOf(r.value());
                assertThat(Arrays.equals(r.value(), value(seq))).as("record bytes intact at offset " + r.offset()).isTrue();
                assertThat(seen.add(seq)).as("value " + seq + " appears once").isTrue();
                assertThat(seq).as("send order kept in partition " + e.getKey()).isGreaterThan(lastSeq);
                lastSeq = seq;
                index.put(r.offset(), r);
            }
            byOffset.put(e.getKey(), index);
        }
        for (Ack ack : expected.values()) {
            if (ack.offset() < 0) {
                assertThat(seen).as("acknowledged " + ack + " (DUPLICATE_SEQUENCE_NUMBER, no offset) is present").contains(ack.seq());
                continue;
            }
            ConsumerRecord<byte[], byte[]> r = byOffset.getOrDefault(ack.partition(), Map.of()).get(ack.offset());
            assertThat(r).as("acknowledged record " + ack + " is present").isNotNull();
            assertThat(seqOf(r.value())).as("acknowledged offset holds its record").isEqualTo(ack.seq());
        }
        return expected.size();
    }

    private static Map<Integer, List<ConsumerRecord<byte[], byte[]>>> readAll(BrokerProcess broker) {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrap());
        p.put("enable.auto.commit", "false");
        p.put("max.poll.records", "5000");
        Map<Integer, List<ConsumerRecord<byte[], byte[]>>> result = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < PARTITIONS; i++) {
                tps.add(new TopicPartition(TOPIC, i));
                result.put(i, new ArrayList<>());
            }
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            long deadline = System.currentTimeMillis() + 120_000;
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    if (r.offset() < end.get(new TopicPartition(TOPIC, r.partition()))) {
                        result.get(r.partition()).add(r);
                    }
                }
            }
            tps.forEach(tp -> assertThat(c.position(tp)).as("read all of " + tp).isGreaterThanOrEqualTo(end.get(tp)));
        }
        return result;
    }

    private static Properties producerProps(BrokerProcess broker) {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrap());
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        p.put("linger.ms", "2");
        p.put("delivery.timeout.ms", "600000");
        p.put("request.timeout.ms", "15000");
        p.put("retry.backoff.ms", "50");
        p.put("reconnect.backoff.max.ms", "200");
        p.put("max.block.ms", "600000");
        p.put("buffer.memory", String.valueOf(8 << 20));
        return p;
    }

    /** 64-byte values: the sequence number, then filler derived from it, so any damage shows. */
    static byte[] value(long seq) {
        byte[] v = new byte[64];
        byte[] head = String.format("%019d:", seq).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(head, 0, v, 0, head.length);
        for (int i = head.length; i < v.length; i++) {
            v[i] = (byte) ('a' + (seq * 31 + i) % 26);
        }
        return v;
    }

    static long seqOf(byte[] value) {
        return Long.parseLong(new String(value, 0, 19, StandardCharsets.US_ASCII));
    }
}
