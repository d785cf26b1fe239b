package io.capstan.broker.kafka;

import org.apache.kafka.common.acl.AclOperation;
import io.capstan.broker.group.GroupCoordinator;
import io.capstan.broker.group.GroupState;
import io.capstan.broker.group.GroupView;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** DescribeGroups: state, protocol, members with their subscriptions and assignments. */
public final class DescribeGroupsHandler implements ApiHandler {
    private static final int NOT_FOUND_VERSION = 6;
    private static final int INSTANCE_ID_VERSION = 4;
    private final GroupCoordinator coordinator;

    public DescribeGroupsHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        DescribeGroupsRequestData r = (DescribeGroupsRequestData) message;
        DescribeGroupsResponseData response = new DescribeGroupsResponseData();
        for (String id : r.groups()) {
            if (!context.allowedOnGroup(AclOperation.DESCRIBE, id)) {
                response.groups().add(new DescribeGroupsResponseData.DescribedGroup().setGroupId(id)
                        .setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code()).setAuthorizedOperations(AuthorizedOperations.NOT_REQUESTED));
                continue;
            }
            GroupView g = coordinator.describe(id);
            DescribeGroupsResponseData.DescribedGroup dg = new DescribeGroupsResponseData.DescribedGroup().setGroupId(id)
                    .setGroupState(g.state().kafkaName()).setProtocolType(g.protocolType()).setProtocolData(g.protocolName());
            if (g.state() == GroupState.DEAD && context.version() >= NOT_FOUND_VERSION) {
                dg.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code()).setErrorMessage("group " + id + " not found");
            }
            for (GroupView.MemberView m : g.members()) {
                DescribeGroupsResponseData.DescribedGroupMember dm = new DescribeGroupsResponseData.DescribedGroupMember()
                        .setMemberId(m.memberId()).setClientId(m.clientId()).setClientHost(m.clientHost())
                        .setMemberMetadata(m.metadata()).setMemberAssignment(m.assignment());
                if (context.version() >= INSTANCE_ID_VERSION) {
                    dm.setGroupInstanceId(m.instanceId());
                }
                dg.members().add(dm);
            }
            dg.setAuthorizedOperations(r.includeAuthorizedOperations()
                    ? AuthorizedOperations.of(context, org.apache.kafka.common.resource.ResourceType.GROUP, id) : AuthorizedOperations.NOT_REQUESTED);
            response.groups().add(dg);
        }
        return CompletableFuture.completedFuture(response);
    }
}
