package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.ShardStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Apache Kafka Connect in distributed mode (4.3.1, the newest whose FileStream connectors resolve: bench/connect-dist), unchanged, against a 3-broker Capstan cluster (broker processes and the
 * failover controller): it creates its compacted config, offset and status topics, a FileStream source and sink
 * round-trip a file of 100,000 lines byte for byte, a restarted worker resumes both where they stood (the source's
 * file position from the compacted offsets topic: no line read twice), and a SIGKILLed broker costs nothing.
 */
class ConnectTest {
    private static final int LINES = 100_000;

    @TempDir
    Path dir;

    @Test
    void fileStreamConnectorsRoundTripAFileThroughARestartAndABrokerKill() throws Exception {
        assertThat(ConnectWorker.LIB.resolve("connect-file-4.3.1.jar")).as("Kafka Connect and its FileStream connectors, assembled by"
                + " bench/connect-dist").exists();
        Path metadata = dir.resolve("metadata");
        Path logs = Path.of("target", "connect-logs");
        BrokerProcess[] brokers = new BrokerProcess[3];
        Path input = dir.resolve("input.txt");
        Path output = dir.resolve("output.txt");
        Random random = new Random(42);
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(metadata, 100);
             ControllerProcess controller = new ControllerProcess(metadata, logs.resolve("controller.log")).start()) {
            for (int id = 0; id < brokers.length; id++) {
                brokers[id] = new BrokerProcess(dir.resolve("broker-" + id), logs.resolve("broker-" + id),
                        Map.of("node.id", String.valueOf(id), "metadata.dir", metadata.toString(), "disk.min.free.bytes", "0",
                                "log.cleaner.backoff.ms", "1000"));
                brokers[id].start();
            }
            String bootstrap = BrokerProcess.bootstrap(brokers);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.createTopics(List.of(new NewTopic("lines", 1, (short) 3).configs(Map.of("min.insync.replicas", "2")))).all().get();
            }
            StoreShards.awaitAllInSync(store, "lines", 1, brokers.length);
            appendLines(input, 0, LINES, random);

            ConnectWorker worker = new ConnectWorker(dir.resolve("worker"), logs.resolve("worker.log"), bootstrap, Map.of()).start();
            try {
                try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                    // the worker's REST API answers while its herder may still be creating these topics, and a broker
                    // other than the one that created them learns of them a moment later (as in Kafka: CI caught
                    // UNKNOWN_TOPIC_OR_PARTITION here once)
                    await("Connect's internal topics").atMost(java.time.Duration.ofSeconds(60)).pollInterval(java.time.Duration.ofMillis(250))
                            .ignoreExceptionsInstanceOf(java.util.concurrent.ExecutionException.class).untilAsserted(() -> {
                                for (String topic : List.of("connect-configs", "connect-offsets", "connect-status")) {
                                    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
                                    assertThat(admin.describeConfigs(List.of(resource)).all().get().get(resource).get("cleanup.policy").value())
                                            .as("Connect created %s compacted", topic).isEqualTo("compact");
                                }
                            });
                }
                worker.create("file-source", Map.of("connector.class", "org.apache.kafka.connect.file.FileStreamSourceConnector",
                        "tasks.max", "1", "file", input.toAbsolutePath().toString(), "topic", "lines"));
                worker.create("file-sink", Map.of("connector.class", "org.apache.kafka.connect.file.FileStreamSinkConnector",
                        "tasks.max", "1", "file", output.toAbsolutePath().toString(), "topics", "lines"));
                awaitSameLines(input, output, worker);

                worker.stop();
                appendLines(input, LINES, 20_000, random);
                worker = new ConnectWorker(dir.resolve("worker"), logs.resolve("worker.log"), bootstrap, Map.of()).start();
                assertThat(worker.connectors()).as("the connectors, read back from the compacted config topic")
                        .containsExactlyInAnyOrder("file-source", "file-sink");
                worker.awaitRunning("file-source");
                worker.awaitRunning("file-sink");
                awaitSameLines(input, output, worker);

                int leader = new ShardStore(store).get("lines", 0).orElseThrow().state().leader();
                brokers[leader].kill();
                appendLines(input, LINES + 20_000, 20_000, random);
                awaitSameLines(input, output, worker);
            } finally {
                worker.stop();
            }
        } finally {
            BrokerProcess.stopAll(brokers);
        }
    }

    /** Waits until the sink's file holds exactly the source's lines, in order; says how they differ if it never does. */
    private static void awaitSameLines(Path input, Path output, ConnectWorker worker) throws Exception {
        List<String> expected = Files.readAllLines(input, StandardCharsets.UTF_8);
        try {
            await("the sink's file equals the source's").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500))
                    .until(() -> Files.exists(output) && Files.readAllLines(output, StandardCharsets.UTF_8).size() >= expected.size());
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            int got = Files.exists(output) ? Files.readAllLines(output, StandardCharsets.UTF_8).size() : 0;
            throw new AssertionError("the sink wrote " + got + " of " + expected.size() + " lines; see " + worker.log(), e);
        }
        List<String> got = Files.readAllLines(output, StandardCharsets.UTF_8);
        assertThat(got.size()).as("lines written by the sink (more: a line delivered twice)").isEqualTo(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            if (!expected.get(i).equals(got.get(i))) {
                throw new AssertionError("line " + (i + 1) + " differs: expected '" + expected.get(i) + "', got '" + got.get(i) + "'");
            }
        }
        assertThat(Files.readAllBytes(output)).as("byte for byte").isEqualTo(Files.readAllBytes(input));
    }

    private static void appendLines(Path file, int from, int count, Random random) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < from + count; i++) {
            sb.append(String.format("line %07d %08x", i, random.nextInt())).append('\n');
        }
        Files.writeString(file, sb, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
