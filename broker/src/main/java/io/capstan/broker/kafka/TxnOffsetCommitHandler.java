package io.capstan.broker.kafka;

import io.capstan.broker.group.CommittedOffset;
import io.capstan.broker.group.GroupCoordinator;
import io.capstan.broker.log.TopicMeta;
import io.capstan.broker.log.TopicCatalog;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/**
 * TxnOffsetCommit (v0-4, by topic name): a transactional producer commits its consumer's offsets as part of its
 * transaction, at the group coordinator; they count once the transaction commits. The group's generation and member
 * are checked when given (KIP-447, so a zombie fenced out of the group cannot commit). Needs WRITE on the transactional
 * id, READ on the group and on each topic.
 */
public final class TxnOffsetCommitHandler implements ApiHandler {
    private final GroupCoordinator groups;
    private final TopicCatalog topics;
    private final ProduceHandler.TxnVerifier verifier;

    static final short IMPLICIT_ADD_VERSION = 5;
    private java.util.function.IntSupplier transactionVersion = () -> 1;

    public TxnOffsetCommitHandler(GroupCoordinator groups, TopicCatalog topics, ProduceHandler.TxnVerifier verifier,
                                  java.util.function.IntSupplier transactionVersion) {
        this(groups, topics, verifier);
        this.transactionVersion = transactionVersion;
    }

    public TxnOffsetCommitHandler(GroupCoordinator groups, TopicCatalog topics, ProduceHandler.TxnVerifier verifier) {
        this.groups = groups;
        this.topics = topics;
        this.verifier = verifier;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        TxnOffsetCommitRequestData r = (TxnOffsetCommitRequestData) message;
        TxnOffsetCommitResponseData response = new TxnOffsetCommitResponseData();
        Errors whole = !context.allowed(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, r.transactionalId())
                ? Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                : !context.allowedOnGroup(AclOperation.READ, r.groupId()) ? Errors.GROUP_AUTHORIZATION_FAILED
                : r.producerId() < 0 ? Errors.INVALID_PRODUCER_ID_MAPPING
                : r.producerEpoch() < 0 ? Errors.INVALID_PRODUCER_EPOCH : Errors.NONE;
        Map<TopicPartition, CommittedOffset> valid = new HashMap<>();
        Map<TopicPartition, TxnOffsetCommitResponsePartition> slots = new HashMap<>();
        long now = System.currentTimeMillis();
        for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic t : r.topics()) {
            TxnOffsetCommitResponseTopic tr = new TxnOffsetCommitResponseTopic().setName(t.name());
            response.topics().add(tr);
            TopicMeta meta = topics.topic(t.name());
            for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition p : t.partitions()) {
                TxnOffsetCommitResponsePartition pr = new TxnOffsetCommitResponsePartition().setPartitionIndex(p.partitionIndex());
                tr.partitions().add(pr);
                if (whole != Errors.NONE) {
                    pr.setErrorCode(whole.code());
                } else if (!context.allowedOnTopic(AclOperation.READ, t.name())) {
                    pr.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code());
                } else if (meta == null || p.partitionIndex() < 0 || p.partitionIndex() >= meta.partitions()) {
                    pr.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else if (p.committedMetadata() != null && p.committedMetadata().length() > GroupCoordinator.MAX_METADATA_BYTES) {
                    pr.setErrorCode(Errors.OFFSET_METADATA_TOO_LARGE.code());
                } else {
                    TopicPartition tp = new TopicPartition(t.name(), p.partitionIndex());
                    valid.put(tp, new CommittedOffset(p.committedOffset(), p.committedLeaderEpoch(), p.committedMetadata(), now));
                    slots.put(tp, pr);
                }
            }
        }
        if (whole != Errors.NONE || valid.isEmpty()) {
            return CompletableFuture.completedFuture(response);
        }
        // KIP-890 part 1 for offsets: a commit delayed past its transaction's end would stay pending forever
        // v5 with transaction version 2: the commit itself adds the offsets shard to the transaction (no AddOffsetsToTxn)
        boolean add = context.version() >= IMPLICIT_ADD_VERSION && transactionVersion.getAsInt() >= 2;
        return verifier.verify(r.transactionalId(), r.producerId(), r.producerEpoch(), AddOffsetsToTxnHandler.OFFSETS_SHARD, add)
                .thenCompose(verified -> verified != Errors.NONE ? CompletableFuture.completedFuture(ProduceHandler.unverified(verified))
                        : groups.commitTransactional(r.groupId(), r.memberId(), r.groupInstanceId(), r.generationIdOrMemberEpoch(),
                                r.producerId(), r.producerEpoch(), valid))
                .thenApply(error -> {
                    slots.values().forEach(pr -> pr.setErrorCode(error.code()));
                    return (ApiMessage) response;
                });
    }
}
