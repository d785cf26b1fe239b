package io.capstan.cluster.metadata;

import java.util.Map;

/**
 * A live broker: where other brokers reach it (its inter-broker listener), where its admin HTTP port is (0 when
 * unknown), its rack, until when its lease holds (renewed by the broker), the advertised address of each of its
 * listeners ("host:port" by listener name), so a client is told the addresses of the listener it connected to, and how
 * often it renews its lease ({@code heartbeatMs}) and how long each renewal holds ({@code leaseMs}), both 0 when unknown,
 * so that readers can judge its liveness by their own clocks (see {@link io.capstan.cluster.view.ClusterView}), and
 * the newest cluster version its build supports ({@code maxClusterVersion}; 0 from a build before versions, which
 * supports only the first: {@link io.capstan.cluster.version.ClusterVersion#supportedBy}).
 */
public record BrokerRegistration(int id, String host, int port, String rack, long leaseExpiresAtMs, int adminPort,
                                 Map<String, String> endpoints, long heartbeatMs, long leaseMs, int maxClusterVersion) {
    public BrokerRegistration {
        endpoints = endpoints == null ? Map.of() : Map.copyOf(endpoints);
    }

    public BrokerRegistration(int id, String host, int port, String rack, long leaseExpiresAtMs, int adminPort,
                              Map<String, String> endpoints, long heartbeatMs, long leaseMs) {
        this(id, host, port, rack, leaseExpiresAtMs, adminPort, endpoints, heartbeatMs, leaseMs, 0);
    }

    public BrokerRegistration(int id, String host, int port, String rack, long leaseExpiresAtMs, int adminPort,
                              Map<String, String> endpoints) {
        this(id, host, port, rack, leaseExpiresAtMs, adminPort, endpoints, 0, 0);
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

    /** By the expiry the broker wrote, read with the reader's clock: off by any skew between the two clocks. */
    public boolean alive(long nowMs) {
        return nowMs < leaseExpiresAtMs;
    }

    /** The lease was ended (a clean exit, or the controller after the process was found gone). */
    public boolean ended() {
        return leaseExpiresAtMs == 0;
    }

    public BrokerRegistration withLease(long expiresAtMs) {
        return new BrokerRegistration(id, host, port, rack, expiresAtMs, adminPort, endpoints, heartbeatMs, leaseMs, maxClusterVersion);
    }

    /** Renewed now for {@code leaseMs}, the next renewal due in {@code heartbeatMs}. */
    public BrokerRegistration renewed(long nowMs, long leaseMs, long heartbeatMs) {
        return new BrokerRegistration(id, host, port, rack, nowMs + leaseMs, adminPort, endpoints, heartbeatMs, leaseMs, maxClusterVersion);
    }

    /** The same broker, announcing that its build supports cluster versions up to {@code max}. */
    public BrokerRegistration supportingUpTo(int max) {
        return new BrokerRegistration(id, host, port, rack, leaseExpiresAtMs, adminPort, endpoints, heartbeatMs, leaseMs, max);
    }
}
