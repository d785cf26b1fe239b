package io.capstan.broker.group;

/** Coordinator limits, with Kafka's defaults. */
public record GroupSettings(int minSessionTimeoutMs, int maxSessionTimeoutMs, int initialRebalanceDelayMs,
                            long offsetsCompactionBytes) {
    public static GroupSettings defaults() {
        return new GroupSettings(6_000, 1_800_000, 3_000, 64L << 20);
    }
}
