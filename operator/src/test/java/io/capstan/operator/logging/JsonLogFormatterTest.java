package io.capstan.operator.logging;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class JsonLogFormatterTest {
    @Test
    void eachRecordIsOneParseableJsonLineWithItsError() throws Exception {
        LogRecord record = new LogRecord(Level.WARNING, "shop/orders: invalid spec: \"spec.replicas\"\tmust be >= 1\nsecond line");
        record.setLoggerName("io.capstan.operator.reconcile.BrokerClusterReconciler");
        record.setThrown(new IllegalStateException("boom"));
        String line = new JsonLogFormatter().format(record);

        assertThat(line).endsWith("}\n").doesNotContain("\n{").hasLineCount(1);
        JsonNode json = new ObjectMapper().readTree(line);
        assertThat(json.get("level").asText()).isEqualTo("WARN");
        assertThat(json.get("logger").asText()).isEqualTo("io.capstan.operator.reconcile.BrokerClusterReconciler");
        assertThat(json.get("message").asText()).isEqualTo("shop/orders: invalid spec: \"spec.replicas\"\tmust be >= 1\nsecond line");
        assertThat(json.get("error").asText()).startsWith("java.lang.IllegalStateException: boom");
        assertThat(json.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
    }

    @Test
    void unknownFormatsAndLevelsAreRefusedNamingTheVariable() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> LogSetup.configure("xml", null)).hasMessageContaining("LOG_FORMAT must be json or text");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> LogSetup.configure("json", "LOUD")).hasMessageContaining("LOG_LEVEL must be");
    }
}
