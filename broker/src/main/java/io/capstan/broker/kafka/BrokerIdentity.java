package io.capstan.broker.kafka;

/** How this broker names itself to clients. The port is known only once the listener is bound. */
public final class BrokerIdentity {
    private final int nodeId;
    private final String clusterId;
    private final String host;
    private volatile int port;

    public BrokerIdentity(int nodeId, String clusterId, String host, int port) {
        this.nodeId = nodeId;
        this.clusterId = clusterId;
        this.host = host;
        this.port = port;
    }

    public int nodeId() { return nodeId; }
    public String clusterId() { return clusterId; }
    public String host() { return host; }
    public int port() { return port; }

    public void boundTo(int port) {
        this.port = port;
    }
}
