package io.capstan.broker.kafka;

import io.capstan.broker.txn.TransactionCoordinator;
import io.capstan.broker.txn.TxnMetadata;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData.TopicData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData.TransactionState;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/** DescribeTransactions ({@code kafka-transactions describe}): state, producer, timeout and partitions of each id asked. */
public final class DescribeTransactionsHandler implements ApiHandler {
    private final TransactionCoordinator transactions;

    public DescribeTransactionsHandler(TransactionCoordinator transactions) {
        this.transactions = transactions;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        DescribeTransactionsRequestData request = (DescribeTransactionsRequestData) message;
        DescribeTransactionsResponseData response = new DescribeTransactionsResponseData();
        for (String id : request.transactionalIds()) {
            TransactionState state = new TransactionState().setTransactionalId(id).setProducerId(-1).setProducerEpoch((short) -1)
                    .setTransactionState("").setTransactionStartTimeMs(-1);
            response.transactionStates().add(state);
            if (!context.allowed(AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, id)) {
                state.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code());
                continue;
            }
            if (!transactions.coordinating()) {
                state.setErrorCode(Errors.NOT_COORDINATOR.code());
                continue;
            }
            TxnMetadata txn = transactions.describe(id);
            if (txn == null) {
                state.setErrorCode(Errors.TRANSACTIONAL_ID_NOT_FOUND.code());
                continue;
            }
            state.setProducerId(txn.producerId()).setProducerEpoch(txn.producerEpoch()).setTransactionState(txn.state().kafkaName())
                    .setTransactionTimeoutMs(txn.timeoutMs()).setTransactionStartTimeMs(txn.txnStartMs());
            Map<String, List<Integer>> byTopic = new TreeMap<>();
            for (TopicPartition tp : txn.partitions()) {
                byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition());
            }
            byTopic.forEach((topic, partitions) -> {
                if (context.allowedOnTopic(AclOperation.DESCRIBE, topic)) {
                    state.topics().add(new TopicData().setTopic(topic).setPartitions(partitions));
                }
            });
        }
        return CompletableFuture.completedFuture(response);
    }
}
