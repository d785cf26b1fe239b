package io.capstan.cluster.metadata;

import java.util.Map;

/**
 * A live broker: where other brokers reach it (its inter-broker listener), where its admin HTTP port is (0 when
 * unknown), its rack, until when its lease holds (renewed by the broker), the advertised address of each of its
 * listeners ("host:port" by listener name), so a client is told the addresses of the listener it connected to, and how
 * often it renews its lease ({@code heartbeatMs}, 0 when unknown), so the controller knows when a renewal is overdue.
 */
public record BrokerRegistration(int id, String host, int port, String rack, long leaseExpiresAtMs, int adminPort,
                                 Map<String, String> endpoints, long heartbeatMs) {
    public BrokerRegistration {
        endpoints = endpoints == null ? Map.of() : Map.copyOf(endpoints);
    }

    public BrokerRegistration(int id, String host, int port, String rack, long leaseExpiresAtMs, int adminPort,
                              Map<String, String> endpoints) {
        this(id, host, port, rack, leaseExpiresAtMs, adminPort, endpoints, 0);
    }

    public BrokerRegistration(int id, String host, int port, String rack, long leaseExpiresAtMs, int adminPort) {
        this(id, host, port, rack, leaseExpiresAtMs, adminPort, Map.of());
    }

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
        return new BrokerRegistration(id, host, port, rack, expiresAtMs, adminPort, endpoints, heartbeatMs);
    }

    /** Renewed now for {@code leaseMs}, the next renewal due in {@code heartbeatMs}. */
    public BrokerRegistration renewed(long nowMs, long leaseMs, long heartbeatMs) {
        return new BrokerRegistration(id, host, port, rack, nowMs + leaseMs, adminPort, endpoints, heartbeatMs);
    }
}
