package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.capstan.cluster.controller.FailoverController;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chart's Grafana dashboard and alert rules against a real Prometheus (built from its Go module) scraping three
 * real broker processes (TLS and SASL listeners, RF 3 topic, a producer and a committing consumer group): every
 * dashboard query returns data, every broker metric the alerts name is served, and Prometheus evaluates every alert
 * rule without error, the only one pending being the expiry of the test's one-day certificates. The operator's metric names the alerts use are checked against the operator's own registry.
 */
@Tag("control-plane") // needs binaries built from Go modules before the suites that use them (e2e-tests/pom.xml)
class DashboardQueriesTest {
    static final Path CHART = Path.of("..", "helm", "capstan-operator").toAbsolutePath().normalize();
    static final Pattern METRIC = Pattern.compile("\\bcapstan_[a-z_]+");
    static final String TOPIC = "dashboard";

    @TempDir
    Path dir;

    /** Every PromQL expression of the chart's dashboard, by panel title and target. */
    static Map<String, String> dashboardQueries() throws Exception {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (JsonNode panel : new ObjectMapper().readTree(CHART.resolve("dashboards").resolve("capstan.json").toFile()).path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                out.put(panel.path("title").asText() + " [" + target.path("refId").asText() + "]", target.path("expr").asText());
            }
        }
        return out;
    }

    /** The metric names the alert rules of {@code group} use. */
    static Set<String> alertMetrics(String group) throws Exception {
        Set<String> out = new TreeSet<>();
        for (JsonNode g : new ObjectMapper(new YAMLFactory()).readTree(CHART.resolve("alerts").resolve("capstan-alerts.yaml").toFile()).path("groups")) {
            if (g.path("name").asText().equals(group)) {
                g.path("rules").forEach(rule -> {
                    Matcher m = METRIC.matcher(rule.path("expr").asText());
                    while (m.find()) {
                        out.add(m.group());
                    }
                });
            }
        }
        return out;
    }

    @Test
    void everyDashboardQueryReturnsDataAndEveryAlertRuleEvaluatesAgainstRealBrokers() throws Exception {
        ClientSecurity security = ClientSecurity.saslSsl(Files.createDirectories(dir.resolve("tls")));
        Path metadata = dir.resolve("metadata");
        LocalFileMetadataStore store = new LocalFileMetadataStore(metadata, 100);
        security.createUsers(store);
        BrokerProcess[] brokers = new BrokerProcess[3];
        List<PrometheusServer.Target> targets = new ArrayList<>();
        for (int id = 0; id < brokers.length; id++) {
            Map<String, String> settings = new java.util.HashMap<>(security.brokerSettings());
            settings.putAll(Map.of("node.id", String.valueOf(id), "metadata.dir", metadata.toString(), "disk.min.free.bytes", "0"));
            brokers[id] = new BrokerProcess(dir.resolve("broker-" + id), Path.of("target", "dashboard-logs", "broker-" + id), settings);
            brokers[id].start();
            targets.add(new PrometheusServer.Target("127.0.0.1:" + brokers[id].adminPort(), Map.of("pod", "broker-" + id, "namespace", "e2e")));
        }
        String bootstrap = BrokerProcess.bootstrap(brokers);
        try (FailoverController controller = new FailoverController(store, System::currentTimeMillis);
             PrometheusServer prometheus = PrometheusServer.start(dir.resolve("prometheus"), "capstan", targets,
                     List.of(CHART.resolve("alerts").resolve("capstan-alerts.yaml")))) {
            controller.start(100);
            try (Admin admin = Admin.create(security.client(bootstrap))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 3).configs(Map.of("min.insync.replicas", "2")))).all().get();
            }
            StoreShards.awaitAllInSync(store, TOPIC, 3, brokers.length);
            ShapedLoad load = new ShapedLoad(new KafkaProducer<>(AcknowledgedRecords.durableProducer(security.client(bootstrap)),
                    new ByteArraySerializer(), new ByteArraySerializer()), TOPIC, 3, 200);
            Properties consumerSettings = security.client(bootstrap);
            consumerSettings.putAll(Map.of("group.id", "dashboard-readers", "auto.offset.reset", "earliest", "auto.commit.interval.ms", "500"));
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerSettings, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                consumer.subscribe(List.of(TOPIC));
                for (var query : dashboardQueries().entrySet()) {
                    await("dashboard panel " + query.getKey() + ": " + query.getValue()).atMost(Duration.ofMinutes(2))
                            .pollInSameThread().pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                                consumer.poll(Duration.ofMillis(100)); // keeps the group committing while the panels are checked
                                assertThat(numbers(prometheus.query(query.getValue()))).as("samples that are numbers").isNotEmpty();
                            });
                }
                for (String metric : alertMetrics("capstan-brokers")) {
                    assertThat(prometheus.query("count(" + metric + ")")).as("brokers serve " + metric + ", which an alert watches").isNotEmpty();
                }
            }
            await("Prometheus has evaluated every alert rule without error").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> {
                        List<String> rules = new ArrayList<>();
                        for (JsonNode group : prometheus.api("/api/v1/rules").path("groups")) {
                            for (JsonNode rule : group.path("rules")) {
                                assertThat(rule.path("health").asText()).as(rule.path("name").asText() + ": " + rule.path("lastError").asText())
                                        .isEqualTo("ok");
                                rules.add(rule.path("name").asText());
                            }
                        }
                        assertThat(rules).hasSize(11);
                    });
            // the test's certificates live one day: that alert, and only that one, is pending for every broker
            await("the certificate alert pending for each broker").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> {
                        Set<String> pending = new TreeSet<>();
                        for (JsonNode alert : prometheus.api("/api/v1/alerts").path("alerts")) {
                            pending.add(alert.path("labels").path("alertname").asText() + " " + alert.path("labels").path("pod").asText()
                                    + " " + alert.path("state").asText());
                        }
                        assertThat(pending).containsExactly("CapstanCertificateExpiresSoon broker-0 pending",
                                "CapstanCertificateExpiresSoon broker-1 pending", "CapstanCertificateExpiresSoon broker-2 pending");
                    });
            load.finishAndVerify(security.client(bootstrap), 3);
        } finally {
            BrokerProcess.stopAll(brokers);
        }
        System.out.printf("dashboard: %d queries each returned data from a real Prometheus scraping 3 brokers; 10 alert rules evaluated%n",
                dashboardQueries().size());
    }

    /** The samples of an instant query's result that are numbers (histogram_quantile of nothing gives NaN). */
    private static List<Double> numbers(JsonNode result) {
        List<Double> out = new ArrayList<>();
        for (JsonNode series : result) {
            double v = Double.parseDouble(series.path("value").get(1).asText());
            if (!Double.isNaN(v)) {
                out.add(v);
            }
        }
        return out;
    }

    /** The operator's metric names the alerts use exist in the operator's own registry, as its /metrics serves them. */
    @Test
    void theOperatorServesEveryMetricItsAlertsWatch() throws Exception {
        var registry = new io.prometheus.metrics.model.registry.PrometheusRegistry();
        var metrics = new io.capstan.operator.reconcile.OperatorMetrics(registry);
        metrics.reconciled("error", 1_000_000);
        metrics.action("rollback");
        var out = new java.io.ByteArrayOutputStream();
        io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter.create().write(out, registry.scrape());
        String exposition = out.toString(java.nio.charset.StandardCharsets.UTF_8);
        Set<String> alerted = alertMetrics("capstan-operator");
        assertThat(alerted).isNotEmpty();
        for (String metric : alerted) {
            assertThat(exposition).as("the operator serves " + metric).containsPattern("(?m)^" + metric + "\\{");
        }
    }
}
