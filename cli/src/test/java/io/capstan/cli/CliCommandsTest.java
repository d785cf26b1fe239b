package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.broker.Broker;
import io.capstan.config.BrokerConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI against a real broker: what a user types and what they see. */
class CliCommandsTest {
    @TempDir
    Path dir;
    Broker broker;
    final InputStream stdin = System.in;
    final PrintStream stdout = System.out;

    @BeforeEach
    void start() {
        Map<String, String> settings = Map.of("data.dir", dir.toString(), "listener.port", "0", "admin.port", "-1");
        broker = new Broker(BrokerConfig.from(settings), settings);
    }

    @AfterEach
    void stop() {
        System.setIn(stdin);
        System.setOut(stdout);
        broker.close();
    }

    private record Run(int exit, String out, String err) {}

    private Run run(String input, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setIn(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            String[] all = new String[args.length + 2];
            System.arraycopy(args, 0, all, 0, args.length);
            all[args.length] = "-b";
            all[args.length + 1] = broker.bootstrap();
            java.io.StringWriter err = new java.io.StringWriter();
            int exit = Capstan.commandLine().setErr(new java.io.PrintWriter(err, true)).execute(all);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setIn(stdin);
            System.setOut(stdout);
        }
    }

    @Test
    void topicLifecycleProduceAndConsume() {
        assertThat(run("", "topic", "create", "orders", "--partitions", "2", "--config", "retention.ms=3600000").exit()).isZero();
        assertThat(run("", "topic", "list").out()).contains("orders");
        Run described = run("", "topic", "describe", "orders");
        assertThat(described.out()).contains("partitions 2").contains("config retention.ms=3600000").contains("config cleanup.policy=delete (default)");

        assertThat(run("a:first\nb:second\nc:third\n", "produce", "-t", "orders", "-p", "1", "-K:", "-H", "src=test").exit()).isZero();
        Run consumed = run("", "consume", "-t", "orders", "-p", "1", "--from", "beginning", "-n", "3",
                "--print-key", "--print-offset", "--print-headers");
        assertThat(consumed.exit()).isZero();
        assertThat(consumed.out().lines().toList()).containsExactly(
                "1:0\ta\t[src=test]\tfirst", "1:1\tb\t[src=test]\tsecond", "1:2\tc\t[src=test]\tthird");
        Run fromOffset = run("", "consume", "-t", "orders", "-p", "1", "--from", "2", "-n", "1");
        assertThat(fromOffset.out().lines().toList()).containsExactly("third");

        assertThat(run("", "topic", "delete", "orders").exit()).isZero();
        assertThat(run("", "topic", "list").out()).doesNotContain("orders");
    }

    @Test
    void groupDescribeShowsLagAndResetMovesOffsets() throws Exception {
        assertThat(run("", "topic", "create", "lagged", "--partitions", "2").exit()).isZero();
        assertThat(run("a\nb\nc\nd\n", "produce", "-t", "lagged", "-p", "0").exit()).isZero();
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", broker.bootstrap());
        p.put("group.id", "readers");
        p.put("enable.auto.commit", "false");
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(p,
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(), new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            var tp = new org.apache.kafka.common.TopicPartition("lagged", 0);
            consumer.commitSync(java.util.Map.of(tp, new org.apache.kafka.clients.consumer.OffsetAndMetadata(1)));
        }
        assertThat(run("", "group", "list").out()).contains("readers");
        Run described = run("", "group", "describe", "readers");
        assertThat(described.exit()).isZero();
        assertThat(described.out().lines().filter(l -> l.startsWith("lagged")).toList())
                .anySatisfy(l -> assertThat(l.split("\\s+")).containsSequence("lagged", "0", "1", "4", "3"));
        Run dry = run("", "group", "reset-offsets", "readers", "-t", "lagged", "--to-latest");
        assertThat(dry.out()).contains("lagged 0 -> 4").contains("dry run");
        assertThat(run("", "group", "reset-offsets", "readers", "-t", "lagged", "--to-latest", "--execute").exit()).isZero();
        assertThat(broker.groups().committed("readers", new org.apache.kafka.common.TopicPartition("lagged", 0)).offset()).isEqualTo(4);
        assertThat(run("", "group", "delete", "readers").exit()).isZero();
        assertThat(broker.groups().committed("readers")).isEmpty();
    }

    @Test
    void perfProduceAndConsumeReportProgressAndSummary() {
        assertThat(run("", "topic", "create", "perf").exit()).isZero();
        Run produced = run("", "perf", "produce", "-t", "perf", "--records", "20000", "--record-size", "512");
        assertThat(produced.exit()).isZero();
        assertThat(produced.out()).contains("produce total: 20,000 records").contains("p99");
        Run consumed = run("", "perf", "consume", "-t", "perf", "--records", "20000");
        assertThat(consumed.exit()).isZero();
        assertThat(consumed.out()).contains("consume total: 20,000 records");
    }

    @Test
    void errorsSayWhatToDo() {
        Run missing = run("", "topic", "describe", "nope");
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.err()).startsWith("error: ").containsIgnoringCase("topic");
        assertThat(run("", "topic", "create", "twice").exit()).isZero();
        Run dup = run("", "topic", "create", "twice");
        assertThat(dup.exit()).isNotZero();
        assertThat(dup.err()).contains("error: topic 'twice' already exists");
        Run badPartitions = run("", "topic", "create", "zero", "--partitions", "0");
        assertThat(badPartitions.err()).contains("numPartitions must be 1..");
    }
}
