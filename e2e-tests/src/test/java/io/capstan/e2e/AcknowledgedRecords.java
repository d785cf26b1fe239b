package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The checker the fault tests share: self-describing record values, the producer settings of a patient durable
 * producer, and the proof that every acknowledged record is in the log once, at its offset, in send order, with no gaps.
 */
public final class AcknowledgedRecords {
    private AcknowledgedRecords() {}

    /** What a producer was told: partition and offset (-1 for DUPLICATE_SEQUENCE_NUMBER) of each acknowledged value. */
    public record Ack(int partition, long offset, long seq) {}

    /** An idempotent acks=all producer that retries through crashes and failovers for up to ten minutes. */
    public static Properties durableProducer(String bootstrap) {
        return durableProducer(ClientSecurity.NONE.client(bootstrap));
    }

    /** The same over a connection described by {@code client} (bootstrap servers and security settings). */
    public static Properties durableProducer(Properties client) {
        Properties p = new Properties();
        p.putAll(client);
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

    /**
     * A durable producer for failover tests: a request stuck at a dead or paused leader fails after
     * {@code requestTimeoutMs} and is retried elsewhere, and metadata is refreshed every 2 s.
     */
    public static Properties failoverProducer(Properties client, long requestTimeoutMs) {
        Properties p = durableProducer(client);
        p.put("request.timeout.ms", String.valueOf(requestTimeoutMs));
        p.put("metadata.max.age.ms", "2000");
        return p;
    }

    /** 64-byte values: the sequence number, then filler derived from it, so any damage shows. */
    public static byte[] value(long seq) {
        byte[] v = new byte[64];
        byte[] head = String.format("%019d:", seq).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(head, 0, v, 0, head.length);
        for (int i = head.length; i < v.length; i++) {
            v[i] = (byte) ('a' + (seq * 31 + i) % 26);
        }
        return v;
    }

    public static long seqOf(byte[] value) {
        return Long.parseLong(new String(value, 0, 19, StandardCharsets.US_ASCII));
    }

    /**
     * Reads every partition from the beginning to its end offset and checks it: dense offsets, intact bytes, each value
     * once, send order per partition, and every acknowledged record at its acknowledged offset. Returns how many were checked.
     */
    public static long verify(String bootstrap, String topic, int partitions, Map<Long, Ack> expected) {
        return verify(ClientSecurity.NONE.client(bootstrap), topic, partitions, expected);
    }

    public static long verify(Properties client, String topic, int partitions, Map<Long, Ack> expected) {
        awaitVisible(client, topic, partitions, expected);
        List<Ack> lost = lost(client, topic, partitions, expected);
        assertThat(lost).as("acknowledged records missing from their offsets").isEmpty();
        return expected.size();
    }

    /**
     * Waits (up to a minute) until every partition's end offset, the high watermark a consumer reads to, covers the
     * highest acknowledged offset: right after a leader change the new leader's high watermark trails the old one's
     * until its followers next fetch, as in Kafka, and a read in that moment would miss records that are there.
     */
    private static void awaitVisible(Properties client, String topic, int partitions, Map<Long, Ack> expected) {
        Map<TopicPartition, Long> needed = new HashMap<>();
        for (Ack ack : expected.values()) {
            needed.merge(new TopicPartition(topic, ack.partition()), ack.offset() + 1, Math::max);
        }
        Properties p = new Properties();
        p.putAll(client);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            org.awaitility.Awaitility.await("the high watermark covers every acknowledged offset").atMost(Duration.ofMinutes(1))
                    .pollInterval(Duration.ofMillis(100)).until(() -> {
                        Map<TopicPartition, Long> ends = c.endOffsets(needed.keySet());
                        return needed.entrySet().stream().allMatch(e -> ends.get(e.getKey()) >= e.getValue());
                    });
        }
    }

    /**
     * The same checks of what the log holds (dense offsets, intact bytes, each value once, send order), but the
     * acknowledged records that are not at their acknowledged offset are returned rather than failing the test: for a
     * test that expects a bounded loss (acknowledged without fsync, then a machine crash).
     */
    public static List<Ack> lost(Properties client, String topic, int partitions, Map<Long, Ack> expected) {
        Map<Integer, List<ConsumerRecord<byte[], byte[]>>> logs = readAll(client, topic, partitions);
        Set<Long> seen = new HashSet<>();
        Map<Integer, Map<Long, Long>> seqAt = new HashMap<>();
        for (var e : logs.entrySet()) {
            long expectOffset = 0;
            long lastSeq = -1;
            Map<Long, Long> index = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : e.getValue()) {
                assertThat(r.offset()).as("offsets are dense in partition " + e.getKey()).isEqualTo(expectOffset++);
                long seq = seqOf(r.value());
                assertThat(Arrays.equals(r.value(), value(seq))).as("record bytes intact at offset " + r.offset()).isTrue();
                assertThat(seen.add(seq)).as("value " + seq + " appears once").isTrue();
                assertThat(seq).as("send order kept in partition " + e.getKey()).isGreaterThan(lastSeq);
                lastSeq = seq;
                index.put(r.offset(), seq);
            }
            seqAt.put(e.getKey(), index);
        }
        List<Ack> lost = new ArrayList<>();
        for (Ack ack : expected.values()) {
            boolean present = ack.offset() < 0 ? seen.contains(ack.seq())
                    : Long.valueOf(ack.seq()).equals(seqAt.getOrDefault(ack.partition(), Map.of()).get(ack.offset()));
            if (!present) {
                lost.add(ack);
            }
        }
        return lost;
    }

    /** What a run without idempotence and with acks=1 left: losses and duplicates are allowed there, and counted. */
    public record Tally(long acknowledged, long lost, long duplicated, long read) {}

    /**
     * For acks=1 (Kafka allows such a write to be lost when its leader fails before a follower copies it) and for
     * producers without idempotence (a retry may write a record twice): reads every partition and checks what must
     * still hold (dense offsets, intact bytes, no record that was never sent: every value's sequence number below
     * {@code sent}), then counts acknowledged records absent from the log and values present more than once.
     */
    public static Tally tally(Properties client, String topic, int partitions, Map<Long, Ack> acknowledged, long sent) {
        Map<Long, Integer> copies = new HashMap<>();
        long read = 0;
        for (var e : readAll(client, topic, partitions).entrySet()) {
            long expectOffset = 0;
            for (ConsumerRecord<byte[], byte[]> r : e.getValue()) {
                assertThat(r.offset()).as("offsets are dense in partition " + e.getKey()).isEqualTo(expectOffset++);
                long seq = seqOf(r.value());
                assertThat(seq).as("a record at offset %d of partition %d that was never sent", r.offset(), e.getKey()).isBetween(0L, sent - 1);
                assertThat(Arrays.equals(r.value(), value(seq))).as("record bytes intact at offset " + r.offset()).isTrue();
                copies.merge(seq, 1, Integer::sum);
                read++;
            }
        }
        long lost = acknowledged.keySet().stream().filter(seq -> !copies.containsKey(seq)).count();
        long duplicated = copies.values().stream().filter(n -> n > 1).mapToLong(n -> n - 1).sum();
        return new Tally(acknowledged.size(), lost, duplicated, read);
    }

    private static Map<Integer, List<ConsumerRecord<byte[], byte[]>>> readAll(Properties client, String topic, int partitions) {
        Properties p = new Properties();
        p.putAll(client);
        p.put("enable.auto.commit", "false");
        p.put("max.poll.records", "5000");
        Map<Integer, List<ConsumerRecord<byte[], byte[]>>> result = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < partitions; i++) {
                tps.add(new TopicPartition(topic, i));
                result.put(i, new ArrayList<>());
            }
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            long deadline = System.currentTimeMillis() + 120_000;
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    if (r.offset() < end.get(new TopicPartition(topic, r.partition()))) {
                        result.get(r.partition()).add(r);
                    }
                }
            }
            tps.forEach(tp -> assertThat(c.position(tp)).as("read all of " + tp).isGreaterThanOrEqualTo(end.get(tp)));
        }
        return result;
    }
}
