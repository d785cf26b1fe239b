package io.capstan.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The chart, through a real Helm (helm-java's bundled library): lint, render, values schema, and the copies kept in step. */
class HelmChartTest {
    static final Path CHART = Path.of("..", "helm", "capstan-operator");
    static final Path INSTALL = Path.of("..", "manifests", "install.yaml");

    static String render() {
        return new Helm(CHART).template().withName("capstan").withNamespace("capstan-system").withKubeVersion("1.31.0").call();
    }

    @Test
    void lintsCleanInStrictMode() {
        LintResult lint = new Helm(CHART).lint().strict().call();
        assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
    }

    @Test
    void rendersTheOperatorWithLeastPrivilege() {
        String out = render();
        assertThat(out).contains("kind: Deployment", "kind: ClusterRole", "kind: ServiceAccount",
                "name: capstan-operator-leader-election", "grafana_dashboard: \"1\"");
        assertThat(out).doesNotContain("verbs: [\"*\"]").doesNotContain("resources: [\"*\"]");
        assertThat(out).as("no ServiceMonitor unless asked for").doesNotContain("kind: ServiceMonitor");
        String withMonitor = new Helm(CHART).template().withName("capstan").withNamespace("capstan-system").withKubeVersion("1.31.0")
                .set("metrics.serviceMonitor.enabled", true).call();
        assertThat(withMonitor).contains("kind: ServiceMonitor");
    }

    /** The PrometheusRule carries the rule file's groups unchanged (promtool tests that file), only when asked for. */
    @Test
    @SuppressWarnings("unchecked")
    void thePrometheusRuleCarriesTheTestedRuleFileAndTheLabelsItsPrometheusSelects() throws Exception {
        assertThat(render()).doesNotContain("kind: PrometheusRule");
        String out = new Helm(CHART).template().withName("capstan").withNamespace("capstan-system").withKubeVersion("1.31.0")
                .set("metrics.prometheusRule.enabled", true).set("metrics.prometheusRule.labels.release", "prometheus").call();
        String doc = java.util.Arrays.stream(out.split("(?m)^---\\s*$")).filter(d -> d.contains("kind: PrometheusRule")).findFirst().orElseThrow();
        var yaml = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
        java.util.Map<String, Object> rule = yaml.readValue(doc, java.util.Map.class);
        java.util.Map<String, Object> file = yaml.readValue(CHART.resolve("alerts").resolve("capstan-alerts.yaml").toFile(), java.util.Map.class);
        assertThat(rule.get("spec")).isEqualTo(file);
        assertThat(((java.util.Map<String, Object>) rule.get("metadata")).get("labels")).asInstanceOf(
                org.assertj.core.api.InstanceOfAssertFactories.MAP).containsEntry("release", "prometheus");
        assertThat((java.util.List<Object>) file.get("groups")).hasSize(2);
    }

    @Test
    void namespacedModeGrantsRolesInTheWatchedNamespacesAndNothingClusterWideButTwoCrdReads() {
        String out = new Helm(CHART).template().withName("capstan").withNamespace("capstan-system").withKubeVersion("1.31.0")
                .set("rbac.namespaced", true).set("watchNamespaces[0]", "team-a").set("watchNamespaces[1]", "team-b").call();
        java.util.List<String> docs = java.util.Arrays.stream(out.split("(?m)^---\\s*$")).toList();
        assertThat(docs.stream().filter(d -> java.util.regex.Pattern.compile("(?m)^kind: Role$").matcher(d).find()).map(d -> d.replaceAll("(?s).*?namespace: (\\S+).*", "$1")).toList())
                .containsExactlyInAnyOrder("team-a", "team-b", "capstan-system");
        java.util.List<String> clusterRoles = docs.stream().filter(d -> java.util.regex.Pattern.compile("(?m)^kind: ClusterRole$").matcher(d).find()).toList();
        assertThat(clusterRoles).as("the operator's own, and the node reader its brokers are bound to").hasSize(2);
        assertThat(String.join("", clusterRoles)).doesNotContain("secrets", "clusterrolebindings", "configmaps")
                .contains("resourceNames: [\"servicemonitors.monitoring.coreos.com\", \"tlsroutes.gateway.networking.k8s.io\"]");
        assertThat(out).contains("name: system:serviceaccounts:team-a", "value: \"namespaced\"");
        assertThatThrownBy(() -> new Helm(CHART).template().withName("capstan").withKubeVersion("1.31.0").set("rbac.namespaced", true).call())
                .hasMessageContaining("rbac.namespaced needs watchNamespaces");
    }

    @Test
    void theValuesSchemaRefusesNonsense() {
        assertThatThrownBy(() -> new Helm(CHART).template().withName("capstan").withKubeVersion("1.31.0").set("replicas", 0).call())
                .hasMessageContaining("replicas");
        assertThatThrownBy(() -> new Helm(CHART).template().withName("capstan").withKubeVersion("1.31.0").set("image.pullPolicy", "Sometimes").call())
                .hasMessageContaining("pullPolicy");
    }

    @Test
    void installYamlAndTheChartsCrdAreInStepWithTheirSources() throws Exception {
        java.util.List<String> crds = java.util.List.of("brokerclusters.capstan.io-v1.yml", "capstanrebalances.capstan.io-v1.yml", "capstantopics.capstan.io-v1.yml",
                "capstanusers.capstan.io-v1.yml", "metadataentries.capstan.io-v1.yml");
        // what `helm template --include-crds` prints: the chart's CRDs, then its templates
        StringBuilder rendered = new StringBuilder("# rendered from helm/capstan-operator: helm template capstan helm/capstan-operator"
                + " --namespace capstan-system --kube-version 1.31.0 --include-crds\n");
        for (String crd : crds) {
            rendered.append("---\n").append(Files.readString(CHART.resolve("crds").resolve(crd)));
        }
        rendered.append(render());
        Files.writeString(Path.of("target", "install.yaml"), rendered);
        assertThat(Files.readString(INSTALL)).as("manifests/install.yaml is stale: copy operator/target/install.yaml over it")
                .isEqualTo(rendered.toString());
        for (String crd : crds) {
            assertThat(Files.readString(CHART.resolve("crds").resolve(crd))).as("helm/capstan-operator/crds/" + crd + " is stale: copy crds/" + crd)
                    .isEqualTo(Files.readString(Path.of("..", "crds", crd)));
        }
    }
}
