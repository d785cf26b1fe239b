package io.capstan.cli.console;

import io.capstan.console.ConsoleServer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.capstan.broker.Broker;
import io.capstan.config.BrokerConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web console against a real broker: its JSON matches what was produced and committed, record for record; each
 * page, loaded in a real headless Chromium (Debian's package), shows it; screenshots go to target/console (copied to
 * docs/console); actions are refused unless allowed and then change the group for real.
 */
class ConsoleTest {
    /** Records produced to each partition of "orders", and the offsets group "billing" committed there. */
    private static final long[] PRODUCED = {10, 20, 5};
    private static final long[] COMMITTED = {4, 20, 0};

    @TempDir
    Path dir;
    Broker broker;
    Admin admin;
    final HttpClient http = HttpClient.newHttpClient();
    final ObjectMapper json = new ObjectMapper();

    @BeforeEach
    void start() throws Exception {
        Map<String, String> settings = Map.of("data.dir", dir.resolve("data").toString(), "listener.port", "0", "admin.port", "-1",
                "group.initial.rebalance.delay.ms", "0");
        broker = new Broker(BrokerConfig.from(settings), settings);
        admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrap()));
        admin.createTopics(List.of(new NewTopic("orders", 3, (short) 1), new NewTopic("audit", 1, (short) 1))).all().get();
        try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of("bootstrap.servers", broker.bootstrap()),
                new StringSerializer(), new StringSerializer())) {
            for (int partition = 0; partition < PRODUCED.length; partition++) {
                for (int i = 0; i < PRODUCED[partition]; i++) {
                    p.send(new ProducerRecord<>("orders", partition, "k" + i, "order-" + i)).get();
                }
            }
            for (int i = 0; i < 7; i++) {
                p.send(new ProducerRecord<>("audit", 0, "k", "entry-" + i)).get();
            }
        }
        Properties c = new Properties();
        c.put("bootstrap.servers", broker.bootstrap());
        c.put("group.id", "billing");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            for (int partition = 0; partition < COMMITTED.length; partition++) {
                offsets.put(new TopicPartition("orders", partition), new OffsetAndMetadata(COMMITTED[partition]));
            }
            consumer.assign(offsets.keySet());
            consumer.commitSync(offsets);
        }
    }

    @AfterEach
    void stop() {
        admin.close();
        broker.close();
    }

    private ConsoleServer console(boolean actions) throws IOException {
        return new ConsoleServer(admin, 10_000, "127.0.0.1", 0, actions, 200);
    }

    private JsonNode get(ConsoleServer console, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + console.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET %s: %s", path, r.body()).isEqualTo(200);
        return json.readTree(r.body());
    }

    private HttpResponse<String> post(ConsoleServer console, String path, boolean actionHeader) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + console.port() + path)).POST(HttpRequest.BodyPublishers.noBody());
        if (actionHeader) {
            b.header("X-Capstan-Action", "1");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theSnapshotMatchesWhatWasProducedAndCommittedPartitionByPartition() throws Exception {
        try (ConsoleServer console = console(false)) {
            JsonNode s = get(console, "/api/snapshot").get("snapshot");
            assertThat(s.get("clusterId").asText()).isEqualTo("capstan-local");
            assertThat(s.get("brokers")).hasSize(1);
            assertThat(s.get("brokers").get(0).get("id").asInt()).isZero();
            assertThat(s.get("brokers").get(0).get("leaders").asInt()).isEqualTo(4);
            JsonNode orders = topic(s, "orders");
            assertThat(orders.get("records").asLong()).isEqualTo(35);
            assertThat(orders.get("replicationFactor").asInt()).isEqualTo(1);
            for (int p = 0; p < PRODUCED.length; p++) {
                JsonNode partition = orders.get("partitions").get(p);
                assertThat(partition.get("partition").asInt()).isEqualTo(p);
                assertThat(partition.get("endOffset").asLong()).isEqualTo(PRODUCED[p]);
                assertThat(partition.get("startOffset").asLong()).isZero();
                assertThat(partition.get("leader").asInt()).isZero();
                assertThat(partition.get("isr").get(0).asInt()).isZero();
                assertThat(partition.get("sizeBytes").asLong()).as("orders-%d's size from DescribeLogDirs", p).isPositive();
            }
            assertThat(topic(s, "audit").get("records").asLong()).isEqualTo(7);
            JsonNode billing = s.get("groups").get(0);
            assertThat(billing.get("groupId").asText()).isEqualTo("billing");
            assertThat(billing.get("totalLag").asLong()).isEqualTo(6 + 0 + 5);
            for (int p = 0; p < COMMITTED.length; p++) {
                JsonNode gp = billing.get("partitions").get(p);
                assertThat(gp.get("committed").asLong()).isEqualTo(COMMITTED[p]);
                assertThat(gp.get("lag").asLong()).isEqualTo(PRODUCED[p] - COMMITTED[p]);
            }
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> get(console, "/api/history").get("times").size() >= 2);
            JsonNode history = get(console, "/api/history");
            assertThat(history.get("groupLag").get("billing").get(0).asLong()).isEqualTo(11);
            assertThat(history.get("topicRecordsPerSecond").get("orders").get(0).asDouble()).as("nothing produced meanwhile").isZero();
        }
    }

    @Test
    void eachPageShowsTheClusterInARealHeadlessChromium() throws Exception {
        String chromium = chromium();
        try (ConsoleServer console = console(false)) {
            String base = "http://127.0.0.1:" + console.port() + "/";
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> get(console, "/api/history").get("times").size() >= 3);
            String brokers = dumpDom(chromium, base + "#/brokers");
            assertThat(brokers).contains("data-ready=\"brokers\"").contains("Brokers (1)").contains("controller").contains(broker.bootstrap());
            String topics = dumpDom(chromium, base + "#/topics");
            assertThat(topics).contains("data-ready=\"topics\"").contains("Topics (2)").contains("data-topic=\"orders\"")
                    .contains("data-topic=\"audit\"").contains("orders produce rate");
            String groups = dumpDom(chromium, base + "#/groups");
            assertThat(groups).contains("data-ready=\"groups\"").contains("Consumer groups (1)").contains("billing lag")
                    .contains("data-lag=\"billing/orders/0/6\"").contains("data-lag=\"billing/orders/1/0\"").contains("data-lag=\"billing/orders/2/5\"")
                    .doesNotContain("Delete group");
            Path shots = Files.createDirectories(Path.of("target", "console"));
            for (String page : List.of("brokers", "topics", "groups")) {
                Path png = shots.resolve(page + ".png");
                Files.deleteIfExists(png);
                chromium(chromium, "--screenshot=" + png.toAbsolutePath(), "--window-size=1200,900", base + "#/" + page);
                assertThat(Files.readAllBytes(png)).as("a PNG of the %s page", page).hasSizeGreaterThan(10_000)
                        .startsWith(new byte[] {(byte) 0x89, 'P', 'N', 'G'});
            }
        }
    }

    @Test
    void actionsAreRefusedUnlessAllowedAndThenChangeTheGroup() throws Exception {
        try (ConsoleServer readOnly = console(false)) {
            HttpResponse<String> refused = post(readOnly, "/api/groups/billing/delete", true);
            assertThat(refused.statusCode()).isEqualTo(403);
            assertThat(refused.body()).contains("--allow-actions");
        }
        try (ConsoleServer console = console(true)) {
            assertThat(post(console, "/api/groups/billing/delete", false).statusCode()).as("without the page's header").isEqualTo(403);
            assertThat(get(console, "/api/snapshot").get("snapshot").get("groups")).as("nothing changed").hasSize(1);
            HttpResponse<String> reset = post(console, "/api/groups/billing/reset-to-earliest", true);
            assertThat(reset.statusCode()).as(reset.body()).isEqualTo(200);
            JsonNode billing = get(console, "/api/snapshot").get("snapshot").get("groups").get(0);
            assertThat(billing.get("totalLag").asLong()).as("every record of orders is behind it again").isEqualTo(35);
            HttpResponse<String> deleted = post(console, "/api/groups/billing/delete", true);
            assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(200);
            assertThat(get(console, "/api/snapshot").get("snapshot").get("groups")).isEmpty();
            assertThat(post(console, "/api/groups/billing/explode", true).statusCode()).isEqualTo(404);
        }
    }

    private static JsonNode topic(JsonNode snapshot, String name) {
        for (JsonNode t : snapshot.get("topics")) {
            if (t.get("name").asText().equals(name)) {
                return t;
            }
        }
        throw new AssertionError("no topic " + name + " in " + snapshot);
    }

    /** Debian's chromium; a run with CAPSTAN_REQUIRE_CHROMIUM=1 (CI) fails without it rather than skip. */
    private static String chromium() {
        for (String candidate : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        if ("1".equals(System.getenv("CAPSTAN_REQUIRE_CHROMIUM"))) {
            throw new AssertionError("chromium is not installed: apt-get install chromium (.ci/run does)");
        }
        Assumptions.abort("chromium is not installed (apt-get install chromium); CI requires it");
        return null;
    }

    private String dumpDom(String chromium, String url) throws Exception {
        return chromium(chromium, "--dump-dom", url);
    }

    /** Runs headless Chromium on one page; it waits for the page's requests (virtual time) before it dumps or shoots. */
    private String chromium(String chromium, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--user-data-dir=" + dir.resolve("chromium-profile"), "--virtual-time-budget=4000"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectError(dir.resolve("chromium.log").toFile()).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("chromium finished").isTrue();
        assertThat(p.exitValue()).as("chromium's exit status; its log: %s", Files.readString(dir.resolve("chromium.log"))).isZero();
        return new String(out, StandardCharsets.UTF_8);
    }
}
