package io.capstan.broker.kafka;

import io.capstan.broker.group.OffsetStore;
import io.capstan.broker.txn.TransactionCoordinator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddOffsetsToTxnResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/**
 * AddOffsetsToTxn: the group's offsets shard joins the producer's transaction, so its TxnOffsetCommit is committed or
 * discarded with it (the shard gets the transaction's marker). Needs WRITE on the transactional id and READ on the group.
 */
public final class AddOffsetsToTxnHandler implements ApiHandler {
    /** Every group's offsets live in the one offsets shard (decision 0004). */
    static final TopicPartition OFFSETS_SHARD = new TopicPartition(OffsetStore.TOPIC, 0);
    private final TransactionCoordinator transactions;

    public AddOffsetsToTxnHandler(TransactionCoordinator transactions) {
        this.transactions = transactions;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        AddOffsetsToTxnRequestData request = (AddOffsetsToTxnRequestData) message;
        AddOffsetsToTxnResponseData response = new AddOffsetsToTxnResponseData();
        if (!context.allowed(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId())) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
        }
        if (!context.allowedOnGroup(AclOperation.READ, request.groupId())) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code()));
        }
        return transactions.addPartitions(request.transactionalId(), request.producerId(), request.producerEpoch(), List.of(OFFSETS_SHARD))
                .thenApply(error -> response.setErrorCode(error.code()));
    }
}
