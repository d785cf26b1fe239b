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
}
