package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.capstan.broker.Broker;
import io.capstan.config.BrokerConfig;
import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same scenario (create topic, idempotent acks=all produce of keyed records, assign-mode read back) with clients
 * from other codebases: kafka-clients 3.9 in its own JVM, confluent-kafka for Python (a current librdkafka), and
 * franz-go. Each client checks its own read-back; this test then counts the records with the 4.x Java client.
 * CI sets CAPSTAN_REQUIRE_CLIENTS=1 so a missing Python package or Go toolchain fails instead of skipping.
 */
class ClientCompatibilityTest {
    static final int COUNT = 1000;

    @TempDir
    Path dir;
    Broker broker;

    @BeforeEach
    void start() {
        Map<String, String> settings = Map.of("data.dir", dir.toString(), "listener.port", "0", "admin.port", "-1");
        broker = new Broker(BrokerConfig.from(settings), settings);
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    @Test
    void kafkaClients3() throws Exception {
        Path jars = Path.of("target", "kafka-clients-3");
        assertThat(jars.resolve("kafka-clients-3.9.1.jar")).exists();
        String classpath = Path.of("target", "test-classes") + File.pathSeparator + jars + File.separator + "*";
        String out = run(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", classpath,
                "io.capstan.e2e.compat.CompatClient", broker.bootstrap(), "java3", String.valueOf(COUNT)));
        assertThat(out).contains("OK " + COUNT);
        assertStored("java3");
    }

    @Test
    void confluentKafkaPython() throws Exception {
        require(exitCode(List.of("python3", "-c", "import confluent_kafka")) == 0, "pip install confluent-kafka");
        String out = run(List.of("python3", "src/test/python/compat_client.py", broker.bootstrap(), "python", String.valueOf(COUNT)));
        assertThat(out).contains("OK " + COUNT).contains("librdkafka 2.");
        assertStored("python");
    }

    @Test
    void confluentKafkaPythonGroupConsumer() throws Exception {
        require(exitCode(List.of("python3", "-c", "import confluent_kafka")) == 0, "pip install confluent-kafka");
        String out = run(List.of("python3", "src/test/python/compat_client.py", broker.bootstrap(), "pygroup", String.valueOf(COUNT), "group"));
        assertThat(out).contains("OK " + COUNT);
        assertCommitted("pygroup-group", "pygroup");
    }

    @Test
    void franzGoGroupConsumer() throws Exception {
        require(exitCode(List.of("go", "version")) == 0, "install Go");
        String out = run(List.of(buildFranz().toString(), broker.bootstrap(), "franzgroup", String.valueOf(COUNT), "group"));
        assertThat(out).contains("OK " + COUNT);
        assertCommitted("franzgroup-group", "franzgroup");
    }

    @Test
    void kcatBalancedConsumer() throws Exception {
        require(exitCode(List.of("kcat", "-V")) == 0, "apt-get install kcat");
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, String>(
                Map.of("bootstrap.servers", broker.bootstrap()), new org.apache.kafka.common.serialization.StringSerializer(),
                new org.apache.kafka.common.serialization.StringSerializer())) {
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrap()))) {
                admin.createTopics(List.of(new NewTopic("kcatg", 2, (short) 1))).all().get();
            }
            for (int i = 0; i < COUNT; i++) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("kcatg", i % 2, "k" + i, "v" + i));
            }
        }
        String consumed = run(List.of("kcat", "-b", broker.bootstrap(), "-q", "-G", "kcat-group", "-o", "beginning", "-e",
                "-X", "enable.auto.commit=true", "-X", "auto.commit.interval.ms=100", "-f", "%s\\n", "kcatg"));
        assertThat(consumed.lines().filter(l -> l.startsWith("v")).count()).isEqualTo(COUNT);
        assertCommitted("kcat-group", "kcatg");
    }

    @Test
    void franzGo() throws Exception {
        require(exitCode(List.of("go", "version")) == 0, "install Go");
        String out = run(List.of(buildFranz().toString(), broker.bootstrap(), "franz", String.valueOf(COUNT)));
        assertThat(out).contains("OK " + COUNT);
        assertStored("franz");
    }

    /**
     * librdkafka (confluent-kafka) and franz-go transactional producers each commit and abort transactions; a
     * read_committed consumer of the other library, and Kafka's Java consumer, see exactly the committed records.
     */
    @Test
    void transactionsInteroperateAcrossLibrdkafkaFranzGoAndJava() throws Exception {
        require(exitCode(List.of("python3", "-c", "import confluent_kafka")) == 0, "pip install confluent-kafka");
        require(exitCode(List.of("go", "version")) == 0, "install Go");
        int txns = 20;
        int per = 6;
        Path franz = Path.of("target", "txn-go").toAbsolutePath();
        String build = run(List.of("go", "build", "-o", franz.toString(), "."), Path.of("src", "test", "go", "txn"));
        assertThat(franz).as("go build output: " + build).exists();
        String python = "src/test/python/txn_client.py";
        String bootstrap = broker.bootstrap();
        assertThat(run(List.of("python3", python, "produce", bootstrap, "pytx", String.valueOf(txns), String.valueOf(per)))).contains("OK produced");
        assertThat(run(List.of(franz.toString(), "produce", bootstrap, "gotx", String.valueOf(txns), String.valueOf(per)))).contains("OK produced");
        int committed = txns / 2 * per;
        assertThat(run(List.of("python3", python, "consume", bootstrap, "gotx", String.valueOf(txns), String.valueOf(per))))
                .as("librdkafka reads franz-go's transactions").contains("OK " + committed);
        assertThat(run(List.of(franz.toString(), "consume", bootstrap, "pytx", String.valueOf(txns), String.valueOf(per))))
                .as("franz-go reads librdkafka's transactions").contains("OK " + committed);
        for (String topic : List.of("pytx", "gotx")) {
            java.util.List<String> keys = new java.util.ArrayList<>();
            try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap, "isolation.level", "read_committed"),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                List<TopicPartition> tps = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
                c.assign(tps);
                c.seekToBeginning(tps);
                long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
                while (keys.size() < committed && System.nanoTime() < deadline) {
                    c.poll(java.time.Duration.ofMillis(100)).forEach(r -> keys.add(new String(r.key())));
                }
                c.poll(java.time.Duration.ofMillis(500)).forEach(r -> keys.add(new String(r.key())));
            }
            java.util.List<String> expected = new java.util.ArrayList<>();
            for (int t = 0; t < txns; t += 2) {
                for (int r = 0; r < per; r++) {
                    expected.add("t" + t + "-r" + r);
                }
            }
            assertThat(keys).as("Kafka's Java consumer, read_committed, on " + topic).containsExactlyInAnyOrderElementsOf(expected);
        }
    }

    private static Path buildFranz() throws Exception {
        Path binary = Path.of("target", "compat-go").toAbsolutePath();
        String build = run(List.of("go", "build", "-o", binary.toString(), "."), Path.of("src", "test", "go", "compat"));
        assertThat(binary).as("go build output: " + build).exists();
        return binary;
    }

    /** The group's committed offsets, read back through the Java admin client, cover every record. */
    private void assertCommitted(String group, String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrap()))) {
            var committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            assertThat(committed.keySet()).extracting(tp -> tp.topic()).containsOnly(topic);
            assertThat(committed.values().stream().mapToLong(o -> o.offset()).sum()).as("committed offsets of " + group).isEqualTo(COUNT);
        }
    }

    static void require(boolean present, String howToInstall) {
        if ("1".equals(System.getenv("CAPSTAN_REQUIRE_CLIENTS"))) {
            assertThat(present).as("client prerequisite missing: " + howToInstall).isTrue();
        }
        assumeTrue(present, "skipped: " + howToInstall);
    }

    private void assertStored(String topic) {
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers", broker.bootstrap()),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
            long total = c.endOffsets(tps).values().stream().mapToLong(Long::longValue).sum();
            assertThat(total).as("records stored exactly once").isEqualTo(COUNT);
        }
    }

    static int exitCode(List<String> cmd) {
        return Commands.exitCode(cmd);
    }

    private static String run(List<String> cmd) throws Exception {
        return Commands.run(cmd, "", Map.of(), Path.of("."));
    }

    private static String run(List<String> cmd, Path workDir) throws Exception {
        return Commands.run(cmd, "", Map.of(), workDir);
    }
}
