package io.capstan.broker.kafka;

import java.net.SocketAddress;
import java.util.concurrent.Executor;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * Who asked what: the parsed header, the peer, the authenticated principal (ANONYMOUS on a PLAINTEXT listener), the
 * listener the request came in on, and the connection's event loop for work that resumes later.
 */
public record RequestContext(RequestHeader header, SocketAddress client, Executor eventLoop, KafkaPrincipal principal, String listener) {
    public RequestContext(RequestHeader header, SocketAddress client, Executor eventLoop) {
        this(header, client, eventLoop, KafkaPrincipal.ANONYMOUS, "PLAINTEXT");
    }

    public short version() {
        return header.apiVersion();
    }
}
