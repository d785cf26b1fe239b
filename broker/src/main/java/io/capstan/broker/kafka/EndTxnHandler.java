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
 * read_committed consumer sees the records once they are replicated). From v5 (transaction version 2) every end bumps
 * the producer epoch and the answer names the producer id and epoch to go on with. Needs WRITE on the transactional id.
 */
public final class EndTxnHandler implements ApiHandler {
    /** From v5 the end moves the producer's epoch on (transaction version 2, KIP-890 part 2) and the answer carries it. */
    static final short TRANSACTION_V2_VERSION = 5;

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
        boolean v2 = context.version() >= TRANSACTION_V2_VERSION;
        return transactions.endTxn(request.transactionalId(), request.producerId(), request.producerEpoch(), request.committed(), v2)
                .thenApply(result -> {
                    response.setErrorCode(result.error().code());
                    if (v2 && result.error() == Errors.NONE) {
                        response.setProducerId(result.producerId()).setProducerEpoch(result.producerEpoch());
                    }
                    return response;
                });
    }
}
