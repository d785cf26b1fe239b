package io.capstan.broker.kafka;

import org.apache.kafka.common.acl.AclOperation;
import io.capstan.broker.group.GroupCoordinator;
import io.capstan.broker.group.GroupView;
import io.capstan.broker.group.modern.ConsumerGroupView;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.protocol.ApiMessage;

/** ListGroups with the state (v4+) and type (v5+) filters: classic groups and consumer-protocol (KIP-848) groups. */
public final class ListGroupsHandler implements ApiHandler {
    private final GroupCoordinator coordinator;

    public ListGroupsHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        ListGroupsRequestData r = (ListGroupsRequestData) message;
        ListGroupsResponseData response = new ListGroupsResponseData();
        boolean classicWanted = r.typesFilter() == null || r.typesFilter().isEmpty()
                || r.typesFilter().stream().anyMatch(t -> t.equalsIgnoreCase("classic"));
        boolean describeCluster = context.allowedOnCluster(AclOperation.DESCRIBE);
        for (GroupView g : coordinator.list()) {
            if (!describeCluster && !context.allowedOnGroup(AclOperation.DESCRIBE, g.groupId())) {
                continue; // without DESCRIBE on the cluster, only the groups the caller may describe
            }
            boolean stateWanted = r.statesFilter() == null || r.statesFilter().isEmpty()
                    || r.statesFilter().stream().anyMatch(s -> s.equalsIgnoreCase(g.state().kafkaName()));
            if (!classicWanted || !stateWanted) {
                continue;
            }
            ListGroupsResponseData.ListedGroup lg = new ListGroupsResponseData.ListedGroup().setGroupId(g.groupId())
                    .setProtocolType(g.protocolType());
            if (context.version() >= 4) {
                lg.setGroupState(g.state().kafkaName());
            }
            if (context.version() >= 5) {
                lg.setGroupType("classic");
            }
            response.groups().add(lg);
        }
        boolean consumerWanted = r.typesFilter() == null || r.typesFilter().isEmpty()
                || r.typesFilter().stream().anyMatch(t -> t.equalsIgnoreCase("consumer"));
        for (ConsumerGroupView g : coordinator.consumerGroups()) {
            if (!consumerWanted || (!describeCluster && !context.allowedOnGroup(AclOperation.DESCRIBE, g.groupId()))) {
                continue;
            }
            if (r.statesFilter() != null && !r.statesFilter().isEmpty()
                    && r.statesFilter().stream().noneMatch(s -> s.equalsIgnoreCase(g.state().kafkaName()))) {
                continue;
            }
            ListGroupsResponseData.ListedGroup lg = new ListGroupsResponseData.ListedGroup().setGroupId(g.groupId()).setProtocolType("consumer");
            if (context.version() >= 4) {
                lg.setGroupState(g.state().kafkaName());
            }
            if (context.version() >= 5) {
                lg.setGroupType("consumer");
            }
            response.groups().add(lg);
        }
        return CompletableFuture.completedFuture(response);
    }
}
