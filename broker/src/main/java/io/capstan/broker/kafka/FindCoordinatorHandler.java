package io.capstan.broker.kafka;

import org.apache.kafka.common.acl.AclOperation;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** FindCoordinator: this broker coordinates every group; transaction coordinators do not exist (no transactions in v1). */
public final class FindCoordinatorHandler implements ApiHandler {
    private static final byte GROUP = 0;
    private static final int BATCHED_VERSION = 4;
    private final BrokerIdentity identity;

    private final Membership membership;

    public FindCoordinatorHandler(BrokerIdentity identity, Membership membership) {
        this.identity = identity;
        this.membership = membership;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        FindCoordinatorRequestData request = (FindCoordinatorRequestData) message;
        FindCoordinatorResponseData response = new FindCoordinatorResponseData();
        Errors error = request.keyType() == GROUP ? Errors.NONE : Errors.INVALID_REQUEST;
        String why = error == Errors.NONE ? null : "transactions are not supported by Capstan v1";
        if (context.version() >= BATCHED_VERSION) {
            List<String> keys = request.coordinatorKeys();
            for (String key : keys) {
                boolean authorized = error != Errors.NONE || context.allowedOnGroup(AclOperation.DESCRIBE, key);
                Membership.Node node = error == Errors.NONE && authorized ? at(membership.groupCoordinator(key), context) : null;
                Errors e = !authorized ? Errors.GROUP_AUTHORIZATION_FAILED
                        : error == Errors.NONE && node == null ? Errors.COORDINATOR_NOT_AVAILABLE : error;
                String text = e == Errors.COORDINATOR_NOT_AVAILABLE ? "the group coordinator is moving or starting; retry" : why;
                FindCoordinatorResponseData.Coordinator c = new FindCoordinatorResponseData.Coordinator().setKey(key)
                        .setErrorCode(e.code()).setErrorMessage(text).setNodeId(node != null ? node.id() : -1)
                        .setHost(node != null ? node.host() : "").setPort(node != null ? node.port() : -1);
                response.coordinators().add(c);
            }
        } else {
            boolean authorized = error != Errors.NONE || context.allowedOnGroup(AclOperation.DESCRIBE, request.key());
            Membership.Node node = error == Errors.NONE && authorized ? at(membership.groupCoordinator(request.key()), context) : null;
            Errors e = !authorized ? Errors.GROUP_AUTHORIZATION_FAILED
                    : error == Errors.NONE && node == null ? Errors.COORDINATOR_NOT_AVAILABLE : error;
            response.setErrorCode(e.code()).setNodeId(node != null ? node.id() : -1)
                    .setHost(node != null ? node.host() : "").setPort(node != null ? node.port() : -1);
            if (context.version() >= 1) {
                response.setErrorMessage(e == Errors.COORDINATOR_NOT_AVAILABLE ? "the group coordinator is moving or starting; retry" : why);
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    private static Membership.Node at(Membership.Node node, RequestContext context) {
        return node == null ? null : node.at(context.listener());
    }
}
