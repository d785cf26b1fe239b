package io.capstan.broker.replica;

import io.capstan.cluster.DaemonThreads;
import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.view.ClusterView;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * Requests one broker sends another outside replication (a transaction coordinator's WriteTxnMarkers), over the same
 * inter-broker listener and credentials as a follower's fetches. A connection per request: they are rare (one per
 * transaction and leader), and a connection kept per peer would need the fetcher's failure handling again.
 */
public final class PeerRequests implements AutoCloseable {
    private static final int TIMEOUT_MS = 30_000;
    private final int me;
    private final ClusterView view;
    private final InterBrokerTransport transport;
    private final ExecutorService io = Executors.newCachedThreadPool(DaemonThreads.named("capstan-peer-requests"));

    public PeerRequests(int me, ClusterView view, InterBrokerTransport transport) {
        this.me = me;
        this.view = view;
        this.transport = transport;
    }

    public <T extends ApiMessage> CompletableFuture<T> send(int brokerId, ApiKeys api, short version, ApiMessage body) {
        CompletableFuture<T> done = new CompletableFuture<>();
        io.execute(() -> {
            BrokerRegistration peer = view.broker(brokerId);
            if (peer == null) {
                done.completeExceptionally(new IOException("broker " + brokerId + " is not registered"));
                return;
            }
            try (LeaderConnection connection = new LeaderConnection(transport, peer.host(), peer.port(), TIMEOUT_MS, "capstan-broker-" + me)) {
                done.complete(connection.send(api, version, body));
            } catch (IOException | RuntimeException e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    @Override
    public void close() {
        io.shutdownNow();
    }
}
