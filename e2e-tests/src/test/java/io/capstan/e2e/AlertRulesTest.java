package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The chart's alert rules (helm/capstan-operator/alerts), through the real promtool built from the Prometheus module:
 * the file is valid, and every alert fires on the series it watches, only after its {@code for}, with the labels and
 * annotations (templates expanded) the test file expects, and stays quiet otherwise.
 */
@Tag("control-plane") // needs binaries built from Go modules before the suites that use them (e2e-tests/pom.xml)
class AlertRulesTest {
    static final Path ALERTS = Path.of("..", "helm", "capstan-operator", "alerts").toAbsolutePath().normalize();

    private static String promtool(String... args) throws Exception {
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(PrometheusServer.binary("promtool").toString()));
        command.addAll(java.util.List.of(args));
        Process p = new ProcessBuilder(command).directory(ALERTS.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as("promtool " + String.join(" ", args) + ":\n" + out).isZero();
        return out;
    }

    @Test
    void theRulesAreValidAndEveryAlertFiresAsItsTestsExpect() throws Exception {
        assertThat(promtool("check", "rules", "capstan-alerts.yaml")).contains("SUCCESS: 11 rules found");
        assertThat(promtool("test", "rules", "capstan-alerts-test.yaml")).contains("SUCCESS");
    }

    /** A rule without a test that sees it fire would be unchecked: every alert has one. */
    @Test
    void everyAlertHasATestInWhichItFires() throws Exception {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        Set<String> alerts = new TreeSet<>();
        for (JsonNode group : yaml.readTree(Files.readString(ALERTS.resolve("capstan-alerts.yaml"))).path("groups")) {
            group.path("rules").forEach(rule -> alerts.add(rule.path("alert").asText()));
        }
        Set<String> fired = new TreeSet<>();
        for (JsonNode test : yaml.readTree(Files.readString(ALERTS.resolve("capstan-alerts-test.yaml"))).path("tests")) {
            test.path("alert_rule_test").forEach(t -> {
                if (t.path("exp_alerts").size() > 0) {
                    fired.add(t.path("alertname").asText());
                }
            });
        }
        assertThat(alerts).hasSize(11);
        assertThat(fired).isEqualTo(alerts);
    }
}
