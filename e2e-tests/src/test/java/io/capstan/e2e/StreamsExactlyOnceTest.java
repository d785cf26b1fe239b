package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.cluster.controller.FailoverController;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.e2e.streams.CountingApp;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka Streams 4.4 with processing.guarantee=exactly_once_v2 on three Capstan broker processes: two instances of a
 * keyed count (state store with a compacted changelog, every new count written out) while a broker is SIGKILLed and
 * restarted and one Streams instance is SIGKILLed and replaced. Exactly once means the read_committed output of each
 * key is exactly 1, 2, ..., n for its n input records: no count doubled, skipped or missing.
 */
class StreamsExactlyOnceTest {
    static final int BROKERS = 3;
    static final int PARTITIONS = 3;
    static final int KEYS = 12;
    static final int PER_KEY = 120;
    static final long LEASE_MS = 2_000;

    @TempDir
    Path dir;

    private final BrokerProcess[] brokers = new BrokerProcess[BROKERS];
    private final List<Process> instances = new ArrayList<>();
    private LocalFileMetadataStore store;

    @AfterEach
    void stop() throws InterruptedException {
        instances.forEach(Process::destroyForcibly);
        BrokerProcess.stopAll(brokers);
    }

    @Test
    void everyKeysCountsAreOneToNThroughBrokerAndInstanceKills() throws Exception {
        Path metadata = dir.resolve("metadata");
        store = new LocalFileMetadataStore(metadata, 100);
        for (int id = 0; id < BROKERS; id++) {
            brokers[id] = new BrokerProcess(dir.resolve("broker-" + id), Path.of("target", "streams-eos-logs", "broker-" + id),
                    Map.of("node.id", String.valueOf(id), "metadata.dir", metadata.toString(), "broker.lease.ms", String.valueOf(LEASE_MS),
                            "replica.lag.time.max.ms", "3000", "replica.fetch.max.wait.ms", "100", "disk.min.free.bytes", "0",
                            "default.replication.factor", "3", "min.insync.replicas", "2", "group.initial.rebalance.delay.ms", "0"));
            brokers[id].start();
        }
        try (FailoverController controller = new FailoverController(store, System::currentTimeMillis);
             KafkaProducer<String, String> input = inputProducer()) {
            controller.start(100);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap()))) {
                admin.createTopics(List.of(new NewTopic("words", PARTITIONS, (short) 3), new NewTopic("counts", PARTITIONS, (short) 3))).all().get();
            }
            StoreShards.awaitAllInSync(store, "words", PARTITIONS, BROKERS);
            startInstance(0);
            startInstance(1);

            produce(input, 0, PER_KEY / 3);
            awaitOutputs(KEYS * PER_KEY / 6, "two instances running");

            int broker = StoreShards.shard(store, "words", 0).leader();
            brokers[broker].kill();
            System.out.printf("SIGKILL of broker %d (leader of words-0)%n", broker);
            produce(input, PER_KEY / 3, 2 * PER_KEY / 3);
            brokers[broker].start();
            awaitOutputs(KEYS * PER_KEY / 2, "after the broker kill");

            instances.get(0).destroyForcibly().waitFor();
            System.out.println("SIGKILL of Streams instance 0; instance 2 replaces it");
            startInstance(2);
            produce(input, 2 * PER_KEY / 3, PER_KEY);

            Map<String, List<Long>> counts = awaitFinalCounts();
            for (int k = 0; k < KEYS; k++) {
                List<Long> expected = IntStream.rangeClosed(1, PER_KEY).mapToObj(i -> (long) i).toList();
                assertThat(counts.get(key(k))).as("the counts of %s, read_committed, in order", key(k)).containsExactlyElementsOf(expected);
            }
            System.out.printf("exactly once: %d keys, each counted 1..%d with no count doubled or missing%n", KEYS, PER_KEY);
        }
    }

    private static String key(int k) {
        return "word-" + k;
    }

    /** Input records {@code from} (inclusive) to {@code to} of every key, idempotent and acks=all: each arrives once. */
    private void produce(KafkaProducer<String, String> input, int from, int to) throws Exception {
        List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
        for (int i = from; i < to; i++) {
            for (int k = 0; k < KEYS; k++) {
                sent.add(input.send(new ProducerRecord<>("words", key(k), "n" + i)));
            }
        }
        for (java.util.concurrent.Future<?> f : sent) {
            f.get(120, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    private KafkaProducer<String, String> inputProducer() {
        Properties p = AcknowledgedRecords.failoverProducer(new Properties(), 5_000);
        p.put("bootstrap.servers", bootstrap());
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private void startInstance(int n) throws IOException {
        Path log = Path.of("target", "streams-eos-logs", "instance-" + n + ".log").toAbsolutePath();
        Files.createDirectories(log.getParent());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"), CountingApp.class.getName(),
                bootstrap(), dir.resolve("streams-state-" + n).toString());
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        instances.add(pb.start());
        System.out.printf("Streams instance %d started (log %s)%n", n, log);
    }

    /** Progress: at least {@code atLeast} counts are readable (read_committed), or the phase named fails. */
    private void awaitOutputs(int atLeast, String phase) {
        long start = System.nanoTime();
        await().atMost(Duration.ofSeconds(120)).until(() -> readCounts().values().stream().mapToInt(List::size).sum() >= atLeast);
        System.out.printf("%s: %d counts out within %d ms%n", phase, atLeast, (System.nanoTime() - start) / 1_000_000);
    }

    private Map<String, List<Long>> awaitFinalCounts() {
        Map<String, List<Long>>[] last = new Map[1];
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            last[0] = readCounts();
            return IntStream.range(0, KEYS).allMatch(k -> {
                List<Long> c = last[0].get(key(k));
                return c != null && !c.isEmpty() && c.get(c.size() - 1) >= PER_KEY;
            });
        });
        return readCounts();
    }

    /** Everything in "counts" a read_committed consumer sees now, by key in offset order. */
    private Map<String, List<Long>> readCounts() {
        Map<String, List<Long>> out = new HashMap<>();
        List<TopicPartition> tps = IntStream.range(0, PARTITIONS).mapToObj(p -> new TopicPartition("counts", p)).toList();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap(), "isolation.level", "read_committed"),
                new StringDeserializer(), new StringDeserializer())) {
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> ends = c.endOffsets(tps);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (tps.stream().anyMatch(tp -> c.position(tp) < ends.get(tp)) && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(100)).forEach(r -> out.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(Long.parseLong(r.value())));
            }
        }
        return out;
    }

    private String bootstrap() {
        return BrokerProcess.bootstrap(brokers);
    }
}
