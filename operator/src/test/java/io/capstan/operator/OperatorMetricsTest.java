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

    @Test
    void eachClustersRolloutPhaseAndCanaryStepAreGaugesUntilTheClusterIsGone() throws Exception {
        OperatorMetrics metrics = new OperatorMetrics(new PrometheusRegistry());
        metrics.rollout("shop", "orders", "Canary", 0);
        metrics.rollout("shop", "orders", "Paused", 1);
        metrics.rollout("shop", "stock", "Complete", null);
        metrics.rollout("shop", "fresh", null, null);
        String text = scrape(metrics);
        assertThat(text).contains("capstan_operator_rollout_phase{cluster=\"orders\",namespace=\"shop\",phase=\"Paused\"} 1.0")
                .doesNotContain("phase=\"Canary\"")
                .contains("capstan_operator_rollout_phase{cluster=\"stock\",namespace=\"shop\",phase=\"Complete\"} 1.0")
                .contains("capstan_operator_canary_step{cluster=\"orders\",namespace=\"shop\"} 1.0")
                .doesNotContain("capstan_operator_canary_step{cluster=\"stock\"").doesNotContain("cluster=\"fresh\"");
        metrics.forget("shop", "orders");
        assertThat(scrape(metrics)).doesNotContain("cluster=\"orders\"").contains("cluster=\"stock\"");
    }

    @Test
    void eachStepOfAPassIsTimedFromTheEndOfTheOneBefore() throws Exception {
        OperatorMetrics metrics = new OperatorMetrics(new PrometheusRegistry());
        long start = System.nanoTime();
        long next = metrics.step("observe", start);
        assertThat(next).isGreaterThanOrEqualTo(start);
        metrics.step("apply", next);
        assertThat(scrape(metrics)).contains("capstan_operator_reconcile_step_seconds_count{step=\"observe\"} 1")
                .contains("capstan_operator_reconcile_step_seconds_count{step=\"apply\"} 1");
    }

    private static String scrape(OperatorMetrics metrics) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
        return out.toString(StandardCharsets.UTF_8);
    }
}
