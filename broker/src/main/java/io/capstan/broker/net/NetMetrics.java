package io.capstan.broker.net;

import org.apache.kafka.common.protocol.ApiKeys;

/** What the network layer reports; implemented by the admin layer's Prometheus metrics. */
public interface NetMetrics {
    void connectionOpened();

    void connectionClosed();

    void request(ApiKeys api, long latencyNanos, int requestBytes, int responseBytes);

    void rejectedFrame(String reason);

    NetMetrics NONE = new NetMetrics() {
        @Override public void connectionOpened() { }
        @Override public void connectionClosed() { }
        @Override public void request(ApiKeys api, long latencyNanos, int requestBytes, int responseBytes) { }
        @Override public void rejectedFrame(String reason) { }
    };
}
