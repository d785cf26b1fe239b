package io.capstan.broker.kafka;

import io.capstan.config.Listener;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How this broker names itself to clients, per listener (a client is told the addresses of the listener it came in
 * on, as Kafka does). {@link #host()} and {@link #port()} are the inter-broker listener's, which other brokers use.
 * Ports advertised as 0 are known only once the listener is bound.
 */
public final class BrokerIdentity {
    private final int nodeId;
    private final String clusterId;
    private final String interBroker;
    private final Map<String, Endpoint> endpoints = new LinkedHashMap<>();

    /** One advertised address. */
    public record Endpoint(String host, int port) {}

    public BrokerIdentity(int nodeId, String clusterId, List<Listener> listeners, String interBroker) {
        this.nodeId = nodeId;
        this.clusterId = clusterId;
        this.interBroker = interBroker;
        listeners.forEach(l -> endpoints.put(l.name(), new Endpoint(l.advertisedHost(), l.advertisedPort())));
    }

    public int nodeId() { return nodeId; }
    public String clusterId() { return clusterId; }
    public String host() { return endpoints.get(interBroker).host(); }
    public int port() { return endpoints.get(interBroker).port(); }

    /** Every listener's advertised address, as "host:port" by listener name. */
    public synchronized Map<String, String> endpoints() {
        Map<String, String> out = new LinkedHashMap<>();
        endpoints.forEach((name, e) -> out.put(name, e.host() + ":" + e.port()));
        return out;
    }

    public synchronized Endpoint endpoint(String listener) {
        return endpoints.getOrDefault(listener, endpoints.get(interBroker));
    }

    /** The listener is bound: advertise its port where none was configured. */
    public synchronized void boundTo(String listener, int port) {
        Endpoint e = endpoints.get(listener);
        if (e != null && e.port() == 0) {
            endpoints.put(listener, new Endpoint(e.host(), port));
        }
    }
}
