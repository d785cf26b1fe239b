package io.capstan.broker.net;

import org.apache.kafka.common.protocol.ApiKeys;

/** What the network layer reports; implemented by the admin layer's Prometheus metrics. */
public interface NetMetrics {
    void connectionOpened();

    void connectionClosed();

    void request(ApiKeys api, long latencyNanos, int requestBytes, int responseBytes);

    void rejectedFrame(String reason);

    /** The broker closed a connection for a limit: the setting's name (max.connections, connections.max.idle.ms, ...). */
    void closedByBroker(String setting);

    /** A client failed TLS or SASL authentication on a listener ({@code stage}: tls or the SASL mechanism). */
    void authenticationFailed(String listener, String stage);

    void authenticated(String listener, String stage);

    NetMetrics NONE = new NetMetrics() {
        @Override public void connectionOpened() { }
        @Override public void connectionClosed() { }
        @Override public void request(ApiKeys api, long latencyNanos, int requestBytes, int responseBytes) { }
        @Override public void rejectedFrame(String reason) { }
        @Override public void closedByBroker(String setting) { }
        @Override public void authenticationFailed(String listener, String stage) { }
        @Override public void authenticated(String listener, String stage) { }
    };
}
