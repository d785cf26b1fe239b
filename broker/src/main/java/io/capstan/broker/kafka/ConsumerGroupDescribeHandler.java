package io.capstan.broker.kafka;

import io.capstan.broker.group.GroupCoordinator;
import io.capstan.broker.group.modern.Assignment;
import io.capstan.broker.group.modern.ConsumerGroupView;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ConsumerGroupDescribeRequestData;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * ConsumerGroupDescribe: epochs, assignor, and each member's current and target assignment. A classic group (or none)
 * is GROUP_ID_NOT_FOUND, which sends Kafka's admin client on to DescribeGroups.
 */
public final class ConsumerGroupDescribeHandler implements ApiHandler {
    private static final byte CLASSIC_MEMBER = 0;
    private static final byte CONSUMER_MEMBER = 1;

    private final GroupCoordinator coordinator;

    public ConsumerGroupDescribeHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        ConsumerGroupDescribeRequestData r = (ConsumerGroupDescribeRequestData) message;
        ConsumerGroupDescribeResponseData response = new ConsumerGroupDescribeResponseData();
        for (String id : r.groupIds()) {
            ConsumerGroupDescribeResponseData.DescribedGroup dg = new ConsumerGroupDescribeResponseData.DescribedGroup().setGroupId(id);
            response.groups().add(dg);
            if (!context.allowedOnGroup(AclOperation.DESCRIBE, id)) {
                dg.setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code());
                continue;
            }
            ConsumerGroupView g = coordinator.describeConsumerGroup(id);
            if (g == null) {
                dg.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code()).setErrorMessage("group " + id + " is not a consumer group");
                continue;
            }
            dg.setGroupState(g.state().kafkaName()).setGroupEpoch(g.groupEpoch()).setAssignmentEpoch(g.assignmentEpoch())
                    .setAssignorName(g.assignorName());
            for (ConsumerGroupView.Member m : g.members()) {
                dg.members().add(new ConsumerGroupDescribeResponseData.Member().setMemberId(m.memberId()).setInstanceId(m.instanceId())
                        .setRackId(m.rackId()).setMemberEpoch(m.memberEpoch()).setClientId(m.clientId()).setClientHost(m.clientHost())
                        .setSubscribedTopicNames(new ArrayList<>(m.subscribedTopicNames())).setSubscribedTopicRegex(m.subscribedTopicRegex())
                        .setAssignment(assignment(m.assigned(), g.topicNames())).setTargetAssignment(assignment(m.target(), g.topicNames()))
                        .setMemberType(m.classic() ? CLASSIC_MEMBER : CONSUMER_MEMBER));
            }
            dg.setAuthorizedOperations(r.includeAuthorizedOperations()
                    ? AuthorizedOperations.of(context, org.apache.kafka.common.resource.ResourceType.GROUP, id) : AuthorizedOperations.NOT_REQUESTED);
        }
        return CompletableFuture.completedFuture(response);
    }

    private static ConsumerGroupDescribeResponseData.Assignment assignment(Assignment a, Map<Uuid, String> names) {
        ConsumerGroupDescribeResponseData.Assignment out = new ConsumerGroupDescribeResponseData.Assignment();
        a.partitions().forEach((topic, ps) -> out.topicPartitions().add(new ConsumerGroupDescribeResponseData.TopicPartitions()
                .setTopicId(topic).setTopicName(names.getOrDefault(topic, "")).setPartitions(new ArrayList<>(ps))));
        return out;
    }
}
