package io.capstan.broker.kafka;

import io.capstan.broker.txn.TransactionCoordinator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/**
 * EndTxn: commit or abort, answered once the decision is replicated in the transaction log; the markers follow (a
 * read_committed consumer sees the records once they are replicated). Needs WRITE on the transactional id.
 */
public final class EndTxnHandler implements ApiHandler {
    private final TransactionCoordinator transactions;

    public EndTxnHandler(TransactionCoordinator transactions) {
        this.transactions = transactions;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        EndTxnRequestData request = (EndTxnRequestData) message;
        EndTxnResponseData response = new EndTxnResponseData().setProducerId(-1).setProducerEpoch((short) -1);
        if (!context.allowed(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId())) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
        }
        return transactions.endTxn(request.transactionalId(), request.producerId(), request.producerEpoch(), request.committed())
                .thenApply(error -> response.setErrorCode(error.code()));
    }
}
