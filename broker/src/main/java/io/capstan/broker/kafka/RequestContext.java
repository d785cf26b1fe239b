package io.capstan.broker.kafka;

import java.net.SocketAddress;
import java.util.concurrent.Executor;
import org.apache.kafka.common.requests.RequestHeader;

/** Who asked what: the parsed header, the peer, and the connection's event loop for work that resumes later. */
public record RequestContext(RequestHeader header, SocketAddress client, Executor eventLoop) {
    public short version() {
        return header.apiVersion();
    }
}
