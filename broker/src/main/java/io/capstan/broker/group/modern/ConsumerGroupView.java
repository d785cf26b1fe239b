package io.capstan.broker.group.modern;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;

/** A consistent snapshot of a consumer-protocol group for ConsumerGroupDescribe, ListGroups and metrics. */
public record ConsumerGroupView(String groupId, ConsumerGroup.State state, int groupEpoch, int assignmentEpoch, String assignorName,
                                List<Member> members, Map<Uuid, String> topicNames) {

    public record Member(String memberId, String instanceId, String rackId, int memberEpoch, String clientId, String clientHost,
                         List<String> subscribedTopicNames, String subscribedTopicRegex, Assignment assigned, Assignment target,
                         boolean classic) {}
}
