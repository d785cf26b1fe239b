package io.capstan.broker.kafka;

import org.apache.kafka.common.acl.AclOperation;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/**
 * FindCoordinator: groups are coordinated by the leader of the offsets shard, transactional ids by the leader of the
 * transaction-log shard (each created when first asked for). DESCRIBE on the group or transactional id is needed.
 */
public final class FindCoordinatorHandler implements ApiHandler {
    private static final byte GROUP = 0;
    private static final byte TRANSACTION = 1;
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
        byte type = request.keyType();
        if (context.version() >= BATCHED_VERSION) {
            for (String key : request.coordinatorKeys()) {
                Answer a = find(context, type, key);
                response.coordinators().add(new FindCoordinatorResponseData.Coordinator().setKey(key)
                        .setErrorCode(a.error().code()).setErrorMessage(a.message()).setNodeId(a.node() != null ? a.node().id() : -1)
                        .setHost(a.node() != null ? a.node().host() : "").setPort(a.node() != null ? a.node().port() : -1));
            }
        } else {
            Answer a = find(context, type, request.key());
            response.setErrorCode(a.error().code()).setNodeId(a.node() != null ? a.node().id() : -1)
                    .setHost(a.node() != null ? a.node().host() : "").setPort(a.node() != null ? a.node().port() : -1);
            if (context.version() >= 1) {
                response.setErrorMessage(a.message());
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    private record Answer(Errors error, String message, Membership.Node node) {}

    private Answer find(RequestContext context, byte type, String key) {
        if (type != GROUP && type != TRANSACTION) {
            return new Answer(Errors.INVALID_REQUEST, "unknown coordinator key type " + type + " (0: group, 1: transaction)", null);
        }
        boolean authorized = type == GROUP ? context.allowedOnGroup(AclOperation.DESCRIBE, key)
                : context.allowed(AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key);
        if (!authorized) {
            return new Answer(type == GROUP ? Errors.GROUP_AUTHORIZATION_FAILED : Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, null, null);
        }
        Membership.Node node = at(type == GROUP ? membership.groupCoordinator(key) : membership.transactionCoordinator(key), context);
        return node == null ? new Answer(Errors.COORDINATOR_NOT_AVAILABLE, "the " + (type == GROUP ? "group" : "transaction")
                + " coordinator is moving or starting; retry", null) : new Answer(Errors.NONE, null, node);
    }

    private static Membership.Node at(Membership.Node node, RequestContext context) {
        return node == null ? null : node.at(context.listener());
    }
}
