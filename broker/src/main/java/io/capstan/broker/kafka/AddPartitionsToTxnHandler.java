package io.capstan.broker.kafka;

import io.capstan.broker.log.TopicCatalog;
import io.capstan.broker.txn.TransactionCoordinator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnPartitionResult;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.ResourceType;

/**
 * AddPartitionsToTxn as producers send it (v0-3): the partitions join the producer's transaction at its coordinator.
 * Needs WRITE on the transactional id and on each topic; a partition refused or unknown fails the request, the others
 * answered OPERATION_NOT_ATTEMPTED, as in Kafka. As brokers send it (v4, ClusterAction): batched by transactional
 * id, and with verifyOnly a partition leader's question whether the partitions are in the transaction (KIP-890 part 1).
 */
public final class AddPartitionsToTxnHandler implements ApiHandler {
    private final TransactionCoordinator transactions;
    private final TopicCatalog topics;

    public AddPartitionsToTxnHandler(TransactionCoordinator transactions, TopicCatalog topics) {
        this.transactions = transactions;
        this.topics = topics;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        AddPartitionsToTxnRequestData request = (AddPartitionsToTxnRequestData) message;
        if (context.version() >= BROKER_VERSION) {
            return fromBroker(context, request);
        }
        String id = request.v3AndBelowTransactionalId();
        Map<TopicPartition, Errors> refused = new HashMap<>();
        List<TopicPartition> partitions = new ArrayList<>();
        boolean idAllowed = context.allowed(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, id);
        for (AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic topic : request.v3AndBelowTopics()) {
            boolean allowed = context.allowedOnTopic(AclOperation.WRITE, topic.name());
            for (int p : topic.partitions()) {
                TopicPartition tp = new TopicPartition(topic.name(), p);
                partitions.add(tp);
                if (!allowed) {
                    refused.put(tp, Errors.TOPIC_AUTHORIZATION_FAILED);
                } else if (TopicNames.internal(topic.name())) {
                    refused.put(tp, Errors.INVALID_TOPIC_EXCEPTION);
                } else if (topics.shard(tp) == null && topics.topic(topic.name()) == null) {
                    refused.put(tp, Errors.UNKNOWN_TOPIC_OR_PARTITION);
                }
            }
        }
        if (!idAllowed) {
            return CompletableFuture.completedFuture(answer(partitions, tp -> Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED));
        }
        if (!refused.isEmpty()) {
            return CompletableFuture.completedFuture(answer(partitions, tp -> refused.getOrDefault(tp, Errors.OPERATION_NOT_ATTEMPTED)));
        }
        return transactions.addPartitions(id, request.v3AndBelowProducerId(), request.v3AndBelowProducerEpoch(), partitions)
                .thenApply(error -> answer(partitions, tp -> error));
    }

    private static final int BROKER_VERSION = 4;

    private CompletionStage<ApiMessage> fromBroker(RequestContext context, AddPartitionsToTxnRequestData request) {
        AddPartitionsToTxnResponseData response = new AddPartitionsToTxnResponseData();
        if (!context.allowedOnCluster(AclOperation.CLUSTER_ACTION)) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code()));
        }
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction txn : request.transactions()) {
            List<TopicPartition> partitions = new ArrayList<>();
            txn.topics().forEach(t -> t.partitions().forEach(p -> partitions.add(new TopicPartition(t.name(), p))));
            Map<TopicPartition, Errors> errors = new java.util.concurrent.ConcurrentHashMap<>();
            List<CompletableFuture<Void>> asked = new ArrayList<>();
            if (txn.verifyOnly()) {
                for (TopicPartition tp : partitions) {
                    asked.add(transactions.verify(txn.transactionalId(), txn.producerId(), txn.producerEpoch(), tp)
                            .thenAccept(error -> errors.put(tp, error)));
                }
            } else {
                asked.add(transactions.addPartitions(txn.transactionalId(), txn.producerId(), txn.producerEpoch(), partitions)
                        .thenAccept(error -> partitions.forEach(tp -> errors.put(tp, error))));
            }
            all.add(CompletableFuture.allOf(asked.toArray(CompletableFuture[]::new)).thenAccept(ignored -> {
                synchronized (response) {
                    response.resultsByTransaction().add(new AddPartitionsToTxnResponseData.AddPartitionsToTxnResult()
                            .setTransactionalId(txn.transactionalId()).setTopicResults(answer(partitions, errors::get).resultsByTopicV3AndBelow()));
                }
            }));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(ignored -> response);
    }

    private static AddPartitionsToTxnResponseData answer(List<TopicPartition> partitions, java.util.function.Function<TopicPartition, Errors> error) {
        AddPartitionsToTxnResponseData response = new AddPartitionsToTxnResponseData();
        AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResultCollection results = new AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResultCollection();
        for (TopicPartition tp : partitions) {
            AddPartitionsToTxnTopicResult topic = results.find(tp.topic());
            if (topic == null) {
                topic = new AddPartitionsToTxnTopicResult().setName(tp.topic());
                results.add(topic);
            }
            topic.resultsByPartition().add(new AddPartitionsToTxnPartitionResult().setPartitionIndex(tp.partition())
                    .setPartitionErrorCode(error.apply(tp).code()));
        }
        return response.setResultsByTopicV3AndBelow(results);
    }
}
