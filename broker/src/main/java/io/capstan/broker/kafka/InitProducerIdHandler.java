package io.capstan.broker.kafka;

import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.StorageException;
import io.capstan.broker.txn.TransactionCoordinator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * InitProducerId: for idempotent producers a fresh, never reused id, or (KIP-360) the same id with a bumped epoch; for a
 * transactional id, the transaction coordinator's answer (this broker must be it: NOT_COORDINATOR otherwise), which
 * needs WRITE on that transactional id.
 */
public final class InitProducerIdHandler implements ApiHandler {
    private static final Logger log = LoggerFactory.getLogger(InitProducerIdHandler.class);
    private final LogManager logs;
    private final java.util.function.LongUnaryOperator clusterWide;
    private final TransactionCoordinator transactions;

    /** {@code clusterWide} makes a broker-local id unique in the cluster (in a cluster: local id * 4096 + broker id). */
    public InitProducerIdHandler(LogManager logs, java.util.function.LongUnaryOperator clusterWide, TransactionCoordinator transactions) {
        this.logs = logs;
        this.clusterWide = clusterWide;
        this.transactions = transactions;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        InitProducerIdRequestData request = (InitProducerIdRequestData) message;
        InitProducerIdResponseData response = new InitProducerIdResponseData().setProducerId(-1).setProducerEpoch((short) -1);
        if (request.transactionalId() != null) {
            if (!context.allowed(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId())) {
                return CompletableFuture.completedFuture(response.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
            }
            if (request.enable2Pc() || request.keepPreparedTxn()) {
                return CompletableFuture.completedFuture(response.setErrorCode(Errors.INVALID_REQUEST.code()));
            }
            return transactions.initProducerId(request.transactionalId(), request.transactionTimeoutMs(), request.producerId(),
                    request.producerEpoch()).thenApply(r -> response.setErrorCode(r.error().code()).setProducerId(r.producerId())
                    .setProducerEpoch(r.producerEpoch()));
        }
        if (!context.allowedOnCluster(AclOperation.IDEMPOTENT_WRITE) && !context.allowedOnAny(AclOperation.WRITE, ResourceType.TOPIC)) {
            // an idempotent producer needs IDEMPOTENT_WRITE on the cluster, or WRITE on some topic (Kafka 3.0+)
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code()));
        }
        try {
            if (request.producerId() >= 0 && request.producerEpoch() >= 0 && request.producerEpoch() < Short.MAX_VALUE - 1) {
                response.setProducerId(request.producerId()).setProducerEpoch((short) (request.producerEpoch() + 1));
            } else {
                response.setProducerId(clusterWide.applyAsLong(logs.producerIds().next())).setProducerEpoch((short) 0);
            }
        } catch (StorageException e) {
            log.error("cannot allocate a producer id: {}", e.getMessage());
            response.setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code());
        }
        return CompletableFuture.completedFuture(response);
    }
}
