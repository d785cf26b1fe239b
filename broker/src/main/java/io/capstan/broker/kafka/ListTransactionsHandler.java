package io.capstan.broker.kafka;

import io.capstan.broker.txn.TransactionCoordinator;
import io.capstan.broker.txn.TxnMetadata;
import io.capstan.broker.txn.TxnState;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ListTransactionsRequestData;
import org.apache.kafka.common.message.ListTransactionsResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/**
 * ListTransactions ({@code kafka-transactions list}): the transactional ids this coordinator holds, filtered by state,
 * producer id, minimum duration (v1, KIP-994) and id pattern (v2, KIP-1152), each only if the caller may DESCRIBE it.
 * Unknown state names are echoed back, as Kafka does.
 */
public final class ListTransactionsHandler implements ApiHandler {
    private final TransactionCoordinator transactions;

    public ListTransactionsHandler(TransactionCoordinator transactions) {
        this.transactions = transactions;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        ListTransactionsRequestData request = (ListTransactionsRequestData) message;
        ListTransactionsResponseData response = new ListTransactionsResponseData();
        for (String state : request.stateFilters()) {
            if (TxnState.fromKafkaName(state) == null) {
                response.unknownStateFilters().add(state);
            }
        }
        if (!transactions.coordinating()) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code()));
        }
        long now = System.currentTimeMillis();
        java.util.regex.Pattern pattern;
        try {
            pattern = request.transactionalIdPattern() == null || request.transactionalIdPattern().isEmpty()
                    ? null : java.util.regex.Pattern.compile(request.transactionalIdPattern());
        } catch (java.util.regex.PatternSyntaxException e) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.INVALID_REQUEST.code()));
        }
        for (TxnMetadata txn : transactions.all()) {
            boolean stateMatches = request.stateFilters().isEmpty() || request.stateFilters().stream()
                    .anyMatch(s -> s.equalsIgnoreCase(txn.state().kafkaName()));
            boolean producerMatches = request.producerIdFilters().isEmpty() || request.producerIdFilters().contains(txn.producerId());
            boolean longEnough = request.durationFilter() < 0 || (txn.txnStartMs() >= 0 && now - txn.txnStartMs() >= request.durationFilter());
            boolean idMatches = pattern == null || pattern.matcher(txn.transactionalId()).matches();
            if (stateMatches && producerMatches && longEnough && idMatches
                    && context.allowed(AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, txn.transactionalId())) {
                response.transactionStates().add(new ListTransactionsResponseData.TransactionState()
                        .setTransactionalId(txn.transactionalId()).setProducerId(txn.producerId()).setTransactionState(txn.state().kafkaName()));
            }
        }
        return CompletableFuture.completedFuture(response);
    }
}
