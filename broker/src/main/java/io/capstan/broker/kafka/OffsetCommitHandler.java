package io.capstan.broker.kafka;

import io.capstan.broker.group.CommittedOffset;
import io.capstan.broker.group.GroupCoordinator;
import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.TopicMeta;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponsePartition;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponseTopic;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.acl.AclOperation;

/** OffsetCommit: checks the member and generation, then answers once the offsets are durable. */
public final class OffsetCommitHandler implements ApiHandler {
    private static final int TOPIC_IDS_VERSION = 10;
    private final GroupCoordinator coordinator;
    private final LogManager logs;

    public OffsetCommitHandler(GroupCoordinator coordinator, LogManager logs) {
        this.coordinator = coordinator;
        this.logs = logs;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        OffsetCommitRequestData r = (OffsetCommitRequestData) message;
        boolean ids = context.version() >= TOPIC_IDS_VERSION;
        OffsetCommitResponseData response = new OffsetCommitResponseData();
        Map<TopicPartition, CommittedOffset> valid = new HashMap<>();
        Map<TopicPartition, OffsetCommitResponsePartition> slots = new HashMap<>();
        long now = System.currentTimeMillis();
        boolean groupAuthorized = context.allowedOnGroup(AclOperation.READ, r.groupId());
        for (OffsetCommitRequestData.OffsetCommitRequestTopic t : r.topics()) {
            TopicMeta meta = ids ? logs.catalog().topic(t.topicId()) : logs.catalog().topic(t.name());
            OffsetCommitResponseTopic tr = new OffsetCommitResponseTopic().setName(t.name()).setTopicId(t.topicId());
            response.topics().add(tr);
            for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions()) {
                OffsetCommitResponsePartition pr = new OffsetCommitResponsePartition().setPartitionIndex(p.partitionIndex());
                tr.partitions().add(pr);
                String name = meta != null ? meta.name() : t.name();
                if (!groupAuthorized) {
                    pr.setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code());
                } else if (name != null && !name.isEmpty() && !context.allowedOnTopic(AclOperation.READ, name)) {
                    pr.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                } else if (meta == null || p.partitionIndex() < 0 || p.partitionIndex() >= meta.partitions()) {
                    pr.setErrorCode((meta == null && ids ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION).code());
                } else if (p.committedMetadata() != null && p.committedMetadata().length() > GroupCoordinator.MAX_METADATA_BYTES) {
                    pr.setErrorCode(Errors.OFFSET_METADATA_TOO_LARGE.code());
                } else {
                    TopicPartition tp = new TopicPartition(meta.name(), p.partitionIndex());
                    valid.put(tp, new CommittedOffset(p.committedOffset(), p.committedLeaderEpoch(), p.committedMetadata(), now));
                    slots.put(tp, pr);
                }
            }
        }
        if (!groupAuthorized) {
            return CompletableFuture.completedFuture(response);
        }
        return coordinator.commit(r.groupId(), r.memberId(), r.groupInstanceId(), r.generationIdOrMemberEpoch(), context.version(), valid)
                .thenApply(error -> {
                    slots.values().forEach(pr -> pr.setErrorCode(error.code()));
                    return (ApiMessage) response;
                });
    }

}
