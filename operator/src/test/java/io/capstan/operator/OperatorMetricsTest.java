package io.capstan.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.operator.reconcile.OperatorMetrics;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OperatorMetricsTest {
    @Test
    void reconcilesAndActionsAreExportedInBaseUnits() throws Exception {
        OperatorMetrics metrics = new OperatorMetrics(new PrometheusRegistry());
        metrics.reconciled("ok", 2_000_000);
        metrics.reconciled("ok", 1_000_000);
        metrics.reconciled("error", 1_000_000);
        metrics.action("broker_restart");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("capstan_operator_reconciles_total{outcome=\"ok\"} 2.0")
                .contains("capstan_operator_reconciles_total{outcome=\"error\"} 1.0")
                .contains("capstan_operator_reconcile_duration_seconds_count 3")
                .contains("capstan_operator_actions_total{action=\"broker_restart\"} 1.0");
    }

    @Test
    void eachClustersFailoverControllerIsCountedByCluster() throws Exception {
        OperatorMetrics metrics = new OperatorMetrics(new PrometheusRegistry());
        java.util.Map<String, long[]> counters = new java.util.TreeMap<>(java.util.Map.of("ns/a", new long[] {3, 40}, "ns/b", new long[] {0, 7}));
        metrics.bindControllers(() -> counters);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
        assertThat(out.toString(StandardCharsets.UTF_8))
                .contains("capstan_controller_failovers_total{cluster=\"ns/a\"} 3.0")
                .contains("capstan_controller_failovers_total{cluster=\"ns/b\"} 0.0")
                .contains("capstan_controller_passes_total{cluster=\"ns/a\"} 40.0");
    }
}
