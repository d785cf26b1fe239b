package io.capstan.bench;

import java.util.List;

/**
 * The brokers compared: Capstan with its defaults, Kafka with its defaults or with an fsync per batch, and (for the
 * TLS comparison) each over SASL_SSL with SCRAM-SHA-512 and the same certificates.
 */
public enum BrokerKind {
    CAPSTAN("Capstan (fsync before ack, default)", false),
    KAFKA_DEFAULT("Kafka (default: no fsync)", false),
    KAFKA_FSYNC("Kafka (flush.messages=1)", false),
    CAPSTAN_SASL_SSL("Capstan over SASL_SSL (fsync before ack)", true),
    CAPSTAN_INLINE("Capstan with log.data.files=false (fsync before ack)", false),
    CAPSTAN_TRACED("Capstan tracing 1 % of requests over OTLP (fsync before ack)", false),
    KAFKA_SASL_SSL("Kafka over SASL_SSL (default: no fsync)", true);

    /** The main comparison (bench/run). */
    public static final List<BrokerKind> DEFAULT_SET = List.of(CAPSTAN, KAFKA_DEFAULT, KAFKA_FSYNC);
    /** The TLS comparison (bench/run --tls): each broker in the clear and over SASL_SSL. */
    public static final List<BrokerKind> TLS_SET = List.of(CAPSTAN, CAPSTAN_SASL_SSL, KAFKA_DEFAULT, KAFKA_SASL_SSL);
    /** Tracing's cost (bench/run --tracing, decision 0032): Capstan without and with tracing at a 1 % sampling ratio. */
    public static final List<BrokerKind> TRACING_SET = List.of(CAPSTAN, CAPSTAN_TRACED);
    /** The data-file layout's A/B (bench/run --data-files, decision 0027): Capstan with (its default) and without it, and Kafka. */
    public static final List<BrokerKind> DATA_FILES_SET = List.of(CAPSTAN_INLINE, CAPSTAN, KAFKA_DEFAULT);

    private final String label;
    private final boolean secured;

    BrokerKind(String label, boolean secured) {
        this.label = label;
        this.secured = secured;
    }

    public String label() {
        return label;
    }

    public boolean secured() {
        return secured;
    }

    public boolean capstan() {
        return this == CAPSTAN || this == CAPSTAN_SASL_SSL || this == CAPSTAN_INLINE || this == CAPSTAN_TRACED;
    }
}
