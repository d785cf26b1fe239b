package io.capstan.cluster.metadata;

/**
 * A live broker: where clients reach it, where its admin HTTP port is (0 when unknown), its rack, and until when its
 * lease holds (renewed by the broker).
 */
public record BrokerRegistration(int id, String host, int port, String rack, long leaseExpiresAtMs, int adminPort) {
    public BrokerRegistration(int id, String host, int port, String rack, long leaseExpiresAtMs) {
        this(id, host, port, rack, leaseExpiresAtMs, 0);
    }

    public static String key(int id) {
        return "brokers/" + id;
    }

    public boolean alive(long nowMs) {
        return nowMs < leaseExpiresAtMs;
    }

    public BrokerRegistration withLease(long expiresAtMs) {
        return new BrokerRegistration(id, host, port, rack, expiresAtMs, adminPort);
    }
}
