package io.capstan.bench;

/** The brokers compared: Capstan with its defaults, and Kafka with its defaults or with an fsync per batch. */
public enum BrokerKind {
    CAPSTAN("Capstan (fsync before ack, default)"),
    KAFKA_DEFAULT("Kafka (default: no fsync)"),
    KAFKA_FSYNC("Kafka (flush.messages=1)");

    private final String label;

    BrokerKind(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
