package io.capstan.broker.kafka;

import org.apache.kafka.common.acl.AclOperation;
import io.capstan.broker.group.GroupCoordinator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** DeleteGroups: only groups without members; their committed offsets are removed durably. */
public final class DeleteGroupsHandler implements ApiHandler {
    private final GroupCoordinator coordinator;

    public DeleteGroupsHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        DeleteGroupsRequestData r = (DeleteGroupsRequestData) message;
        DeleteGroupsResponseData response = new DeleteGroupsResponseData();
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        for (String id : r.groupsNames()) {
            DeleteGroupsResponseData.DeletableGroupResult result = new DeleteGroupsResponseData.DeletableGroupResult().setGroupId(id);
            response.results().add(result);
            if (!context.allowedOnGroup(AclOperation.DELETE, id)) {
                result.setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code());
                continue;
            }
            pending.add(coordinator.delete(id).thenAccept((Errors e) -> result.setErrorCode(e.code())));
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).thenApply(x -> (ApiMessage) response);
    }
}
