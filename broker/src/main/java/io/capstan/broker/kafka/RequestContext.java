package io.capstan.broker.kafka;

import io.capstan.broker.security.Authorizer;
import io.capstan.broker.trace.RequestTrace;
import java.net.SocketAddress;
import java.util.concurrent.Executor;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * Who asked what: the parsed header, the peer (and its address as text, worked out once per connection for ACL host
 * matching), the authenticated principal (ANONYMOUS on a PLAINTEXT listener), the
 * listener the request came in on, what that principal may do, the connection's event loop for work that
 * resumes later, the frame the request was read from (only while the handler's call runs), and where the request's
 * moments are recorded for tracing (null when tracing is off).
 */
public record RequestContext(RequestHeader header, SocketAddress client, String clientHost, Executor eventLoop,
                             KafkaPrincipal principal, String listener, Authorizer authorizer, RequestFrame frame,
                             RequestTrace trace) {

    public short version() {
        return header.apiVersion();
    }

    /** May the caller do {@code operation} on this resource? */
    public boolean allowed(AclOperation operation, ResourceType type, String name) {
        return authorizer.authorize(principal, clientHost, operation, type, name);
    }

    public boolean allowedOnTopic(AclOperation operation, String topic) {
        return allowed(operation, ResourceType.TOPIC, topic);
    }

    public boolean allowedOnGroup(AclOperation operation, String group) {
        return allowed(operation, ResourceType.GROUP, group);
    }

    public boolean allowedOnCluster(AclOperation operation) {
        return allowed(operation, ResourceType.CLUSTER, Authorizer.CLUSTER);
    }

    /** May the caller do {@code operation} on some resource of this type? */
    public boolean allowedOnAny(AclOperation operation, ResourceType type) {
        return authorizer.authorizeAny(principal, clientHost, operation, type);
    }
}
