package io.capstan.broker.kafka;

import io.capstan.broker.group.GroupCoordinator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponsePartition;
import org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponseTopic;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * OffsetDelete ({@code kafka-consumer-groups --delete-offsets}, {@code Admin.deleteConsumerGroupOffsets}): a group's
 * committed offsets of some partitions removed durably, except for topics its members consume. Needs DELETE on the
 * group and READ on each topic, as in Kafka.
 */
public final class OffsetDeleteHandler implements ApiHandler {
    private final GroupCoordinator coordinator;

    public OffsetDeleteHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        OffsetDeleteRequestData request = (OffsetDeleteRequestData) message;
        if (!context.allowedOnGroup(AclOperation.DELETE, request.groupId())) {
            return CompletableFuture.completedFuture(new OffsetDeleteResponseData().setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code()));
        }
        List<TopicPartition> asked = new ArrayList<>();
        Map<TopicPartition, Errors> refused = new java.util.HashMap<>();
        for (OffsetDeleteRequestData.OffsetDeleteRequestTopic t : request.topics()) {
            boolean readable = context.allowedOnTopic(AclOperation.READ, t.name());
            for (OffsetDeleteRequestData.OffsetDeleteRequestPartition p : t.partitions()) {
                TopicPartition tp = new TopicPartition(t.name(), p.partitionIndex());
                if (readable) {
                    asked.add(tp);
                } else {
                    refused.put(tp, Errors.TOPIC_AUTHORIZATION_FAILED);
                }
            }
        }
        return coordinator.deleteOffsets(request.groupId(), asked).thenApply(deletion -> {
            OffsetDeleteResponseData response = new OffsetDeleteResponseData().setErrorCode(deletion.error().code());
            if (deletion.error() != Errors.NONE) {
                return response;
            }
            for (OffsetDeleteRequestData.OffsetDeleteRequestTopic t : request.topics()) {
                OffsetDeleteResponseTopic topic = response.topics().find(t.name());
                if (topic == null) {
                    topic = new OffsetDeleteResponseTopic().setName(t.name());
                    response.topics().add(topic);
                }
                for (OffsetDeleteRequestData.OffsetDeleteRequestPartition p : t.partitions()) {
                    TopicPartition tp = new TopicPartition(t.name(), p.partitionIndex());
                    Errors error = refused.getOrDefault(tp, deletion.partitions().getOrDefault(tp, Errors.NONE));
                    if (topic.partitions().find(p.partitionIndex()) == null) {
                        topic.partitions().add(new OffsetDeleteResponsePartition().setPartitionIndex(p.partitionIndex()).setErrorCode(error.code()));
                    }
                }
            }
            return response;
        });
    }
}
