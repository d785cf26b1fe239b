package io.capstan.broker.net;

import org.apache.kafka.common.protocol.ApiKeys;

/** What the network layer reports; implemented by the admin layer's Prometheus metrics. */
public interface NetMetrics {
    void connectionOpened();

    void connectionClosed();

    /**
     * A request was answered after {@code totalNanos}: {@code localNanos} decoding and handling it on the event loop,
     * {@code remoteNanos} waiting for its answer (the log, replicas, a parked fetch), {@code responseQueueNanos} answered
     * but behind earlier requests of its connection.
     */
    void request(ApiKeys api, long totalNanos, long localNanos, long remoteNanos, long responseQueueNanos, int requestBytes, int responseBytes);

    void rejectedFrame(String reason);

    /** The broker closed a connection for a limit: the setting's name (max.connections, connections.max.idle.ms, ...). */
    void closedByBroker(String setting);

    /** A client failed TLS or SASL authentication on a listener ({@code stage}: tls or the SASL mechanism). */
    void authenticationFailed(String listener, String stage);

    void authenticated(String listener, String stage);

    /**
     * A request the broker could not handle for a fault of its own (a bug, never the client's input): {@code stage} is
     * handler (it threw or failed), encode (the response does not fit the version) or pipeline (anything else).
     * The connection is closed; this counts it, so a dashboard or a fuzz run sees it.
     */
    void internalError(String stage);

    /** A client over its byte-rate quota was told to wait {@code ms} ({@code api}: PRODUCE or FETCH). */
    void throttled(ApiKeys api, long ms);

    NetMetrics NONE = new NetMetrics() {
        @Override public void connectionOpened() { }
        @Override public void connectionClosed() { }
        @Override public void request(ApiKeys api, long totalNanos, long localNanos, long remoteNanos, long responseQueueNanos,
                                      int requestBytes, int responseBytes) { }
        @Override public void rejectedFrame(String reason) { }
        @Override public void closedByBroker(String setting) { }
        @Override public void authenticationFailed(String listener, String stage) { }
        @Override public void authenticated(String listener, String stage) { }
        @Override public void internalError(String stage) { }
        @Override public void throttled(ApiKeys api, long ms) { }
    };
}
