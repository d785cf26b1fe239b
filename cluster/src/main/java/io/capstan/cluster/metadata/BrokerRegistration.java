package io.capstan.cluster.metadata;

/** A live broker: where clients reach it, its rack, and until when its lease holds (renewed by the broker). */
public record BrokerRegistration(int id, String host, int port, String rack, long leaseExpiresAtMs) {
    public static String key(int id) {
        return "brokers/" + id;
    }

    public boolean alive(long nowMs) {
        return nowMs < leaseExpiresAtMs;
    }
}
