package io.capstan.broker.kafka;

import io.capstan.broker.log.AppendResult;
import io.capstan.broker.trace.RequestTrace;
import io.capstan.broker.log.BatchHeader;
import io.capstan.broker.log.TxnVerification;
import io.capstan.broker.log.BatchValidator;
import io.capstan.broker.replica.Replication;
import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import io.capstan.broker.log.TopicMeta;
import io.capstan.config.BrokerConfig;
import io.capstan.config.CleanupPolicies;
import java.nio.ByteBuffer;
import java.util.function.Supplier;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse;
import org.apache.kafka.common.message.ProduceResponseData.TopicProduceResponse;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Produce: validates each partition's batch on the event loop, hands it to the group committer, and answers when
 * every partition is durable (acks=1) and, for acks=all, replicated to the in-sync replicas, or immediately with nothing for acks=0. Only the shard's leader accepts writes.
 */
public final class ProduceHandler implements ApiHandler {
    private static final Logger log = LoggerFactory.getLogger(ProduceHandler.class);

    /** Its size limit unused: the broker's and the topic's are passed per batch. */
    private final BatchValidator validator = new BatchValidator(Integer.MAX_VALUE);
    private final LogManager logs;
    private final Replication replication;
    /** The broker's settings, read again per request: message.max.bytes, min.insync.replicas and others change live. */
    private final Supplier<BrokerConfig> config;

    private final TxnVerifier verifier;

    public ProduceHandler(LogManager logs, Replication replication, Supplier<BrokerConfig> config, TxnVerifier verifier) {
        this.logs = logs;
        this.replication = replication;
        this.config = config;
        this.verifier = verifier;
    }

    /**
     * Asks the transaction coordinator whether a partition is in the producer's ongoing transaction (KIP-890 part 1), or,
     * with {@code add} (transaction version 2, part 2), to add it there: the producer's write is what adds it.
     */
    public interface TxnVerifier {
        CompletableFuture<Errors> verify(String transactionalId, long producerId, short producerEpoch, TopicPartition tp, boolean add);
    }

    /** From v12 a transactional write adds its partition to the transaction when transaction version 2 is on (KIP-890). */
    public static final short IMPLICIT_ADD_VERSION = 12;

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        ProduceRequestData request = (ProduceRequestData) message;
        if (request.transactionalId() != null
                && !context.allowed(AclOperation.WRITE, org.apache.kafka.common.resource.ResourceType.TRANSACTIONAL_ID, request.transactionalId())) {
            return CompletableFuture.completedFuture(rejectAll(request, Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
                    context.principal() + " may not WRITE transactional id " + request.transactionalId() + "; ask an administrator for an ACL"));
        }
        BrokerConfig settings = config.get();
        ProduceResponseData response = new ProduceResponseData();
        CompletableFuture<ApiMessage> done = new CompletableFuture<>();
        AtomicInteger pending = new AtomicInteger(1);
        Runnable countDown = () -> {
            if (pending.decrementAndGet() == 0) {
                done.complete(request.acks() == 0 ? null : response);
            }
        };
        for (ProduceRequestData.TopicProduceData topic : request.topicData()) {
            TopicMeta meta = topic.name() == null || topic.name().isEmpty()
                    ? logs.catalog().topic(topic.topicId()) : logs.catalog().topic(topic.name());
            TopicProduceResponse topicResponse = new TopicProduceResponse().setName(topic.name()).setTopicId(topic.topicId());
            response.responses().add(topicResponse);
            for (ProduceRequestData.PartitionProduceData partition : topic.partitionData()) {
                PartitionProduceResponse pr = new PartitionProduceResponse().setIndex(partition.index())
                        .setBaseOffset(-1).setLogAppendTimeMs(-1).setLogStartOffset(-1);
                topicResponse.partitionResponses().add(pr);
                String name = meta != null ? meta.name() : topic.name();
                if (name != null && !name.isEmpty() && !context.allowedOnTopic(AclOperation.WRITE, name)) {
                    // refused before existence is checked, so a caller cannot probe for topics it may not see
                    pr.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()).setErrorMessage(context.principal()
                            + " may not WRITE topic " + name + "; ask an administrator for an ACL");
                    continue;
                }
                Shard shard = meta == null ? null : logs.catalog().shard(new TopicPartition(meta.name(), partition.index()));
                if (meta != null && TopicNames.internal(meta.name())) {
                    pr.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code()).setErrorMessage("topic " + meta.name()
                            + " is internal to Capstan and cannot be written by clients");
                    continue;
                }
                if (shard == null) {
                    Errors unknown = meta == null && Uuid.ZERO_UUID.equals(topic.topicId()) ? Errors.UNKNOWN_TOPIC_OR_PARTITION
                            : meta == null ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION;
                    pr.setErrorCode(unknown.code()).setErrorMessage("no such topic or partition: "
                            + (topic.name() == null || topic.name().isEmpty() ? topic.topicId() : topic.name()) + "-" + partition.index());
                    continue;
                }
                // records are nullable on the wire: no records is an empty, invalid batch set, refused as such below
                ByteBuffer records = partition.records() == null ? ByteBuffer.allocate(0) : ((MemoryRecords) partition.records()).buffer().duplicate();
                String topicLimit = meta.configs().get("max.message.bytes");
                BatchValidator.Verdict verdict = topicLimit == null ? validator.validate(records, settings.messageMaxBytes(), "message.max.bytes")
                        : validator.validate(records, Integer.parseInt(topicLimit), "max.message.bytes of topic " + meta.name());
                if (verdict.ok()) {
                    verdict = BatchValidator.validateTimestamps(records, System.currentTimeMillis(),
                            bound(meta.configs().get("message.timestamp.before.max.ms"), settings.timestamps().beforeMaxMs()),
                            bound(meta.configs().get("message.timestamp.after.max.ms"), settings.timestamps().afterMaxMs()));
                }
                if (verdict.ok() && CleanupPolicies.compacts(meta.configs().getOrDefault("cleanup.policy", settings.cleaner().cleanupPolicy()))) {
                    verdict = BatchValidator.validateKeys(records, shard.topicPartition().toString());
                }
                if (!verdict.ok()) {
                    log.warn("rejected produce from {} to {}: {} ({})", context.client(), shard, verdict.reason(), verdict.error());
                    pr.setErrorCode(verdict.error().code()).setErrorMessage(verdict.reason());
                    continue;
                }
                String topicMinInsync = meta.configs().get("min.insync.replicas");
                int minInsync = topicMinInsync == null ? settings.replication().minInsyncReplicas() : Integer.parseInt(topicMinInsync);
                int epoch = shard.leaderEpoch(); // read before the check: the log refuses the batch if the shard leaves it meanwhile
                Errors refused = replication.canAppend(shard, request.acks(), minInsync);
                if (refused != Errors.NONE) {
                    pr.setErrorCode(refused.code()).setErrorMessage(refused == Errors.NOT_ENOUGH_REPLICAS
                            ? "fewer than min.insync.replicas=" + minInsync + " replicas of " + shard + " are in sync; retry later"
                            : "this broker does not lead " + shard + "; refresh metadata and retry");
                    continue;
                }
                int lastOffsetDelta = records.getInt(records.position() + BatchHeader.LAST_OFFSET_DELTA);
                pending.incrementAndGet();
                int batchBytes = records.remaining();
                RequestTrace trace = context.trace();
                if (trace != null) {
                    if (trace.parent() == null) {
                        trace.parent(TraceContextReader.firstRecord(records));
                    }
                    trace.handedToLog(System.nanoTime());
                }
                java.util.function.Consumer<AppendResult> answer = result -> {
                    if (trace != null && result.times() != null) {
                        AppendResult.CommitTimes t = result.times();
                        trace.logged(t.writeStartNanos(), t.writeEndNanos(), t.syncStartNanos(), t.syncEndNanos());
                    }
                    boolean written = result.error() == Errors.NONE || result.alreadyWritten();
                    if (result.error() == Errors.NONE && !result.alreadyWritten()) {
                        shard.traffic().produced(batchBytes);
                    }
                    if (!written || request.acks() != -1) {
                        fill(pr, result);
                        countDown.run();
                        return;
                    }
                    long last = result.alreadyWritten() ? result.baseOffset() : result.baseOffset() + lastOffsetDelta;
                    replication.awaitReplicated(shard, last, minInsync, request.timeoutMs())
                            .thenAccept(error -> {
                                if (trace != null) {
                                    trace.replicated(System.nanoTime());
                                }
                                if (error == Errors.NONE) {
                                    fill(pr, result);
                                } else {
                                    log.info("acks=all produce to {} at offsets {}-{} answered {}", shard, result.baseOffset(),
                                            result.baseOffset() + lastOffsetDelta, error);
                                    pr.setErrorCode(error.code()).setErrorMessage(error.message() + " (" + shard
                                            + "; the records are on the leader but not acknowledged as replicated: retry)");
                                }
                                countDown.run();
                            });
                };
                BatchHeader header = request.transactionalId() == null ? null : new BatchHeader().wrap(records, records.position());
                if (header == null || !header.isTransactional()) {
                    // the log takes the batch from the request frame it arrived in: no copy on the event loop
                    logs.append(shard, context.frame().retain((MemoryRecords) partition.records()), epoch, answer);
                    continue;
                }
                long producerId = header.producerId();
                short producerEpoch = header.producerEpoch();
                TxnWriter writer = new TxnWriter(shard, producerId);
                if (shard.txnView(producerId).openIn(producerEpoch) && !writers.containsKey(writer)) {
                    // the common case: its transaction is open here and no earlier batch of it awaits a check
                    logs.appendTransactional(shard, context.frame().retain((MemoryRecords) partition.records()), epoch,
                            TxnVerification.OPEN, answer);
                    continue;
                }
                // it waits for the coordinator's answer, after the frame is gone: a copy of its own
                byte[] batch = new byte[records.remaining()];
                records.get(records.position(), batch);
                boolean add = context.version() >= IMPLICIT_ADD_VERSION && settings.transactions().version() >= 2;
                BrokerConfig.Transactions txnSettings = settings.transactions();
                // one producer's transactional batches to one shard take their turn: a check answered late must not let
                // the batch after it reach the log first (the log would refuse the pair as out of order)
                CompletableFuture<Void> turn = new CompletableFuture<>();
                CompletableFuture<Void> previous = writers.put(writer, turn);
                (previous == null ? CompletableFuture.<Void>completedFuture(null) : previous)
                        .thenCompose(ignored -> appendInTurn(request.transactionalId(), producerId, producerEpoch, shard, batch, epoch, add,
                                txnSettings, answer))
                        .whenComplete((ignored, failure) -> {
                            if (failure != null) {
                                answer.accept(AppendResult.failed(Errors.UNKNOWN_SERVER_ERROR, "the transaction check failed: " + failure));
                            }
                            writers.remove(writer, turn);
                            turn.complete(null);
                        });
            }
        }
        countDown.run();
        return done;
    }

    private record TxnWriter(Shard shard, long producerId) {}

    /** Transactional batches waiting for the one before them of the same producer and shard. */
    private final java.util.concurrent.ConcurrentHashMap<TxnWriter, CompletableFuture<Void>> writers = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * A transactional batch's turn: it joins the producer's open transaction in its epoch at once, else the coordinator
     * is asked (checked, or with transaction version 2, the partition added) first. Completes once the batch is handed
     * to the log (or refused), so the next batch's turn comes after it in the log's order.
     */
    private CompletableFuture<Void> appendInTurn(String transactionalId, long producerId, short producerEpoch, Shard shard, byte[] batch,
                                                 int epoch, boolean add, BrokerConfig.Transactions txnSettings,
                                                 java.util.function.Consumer<AppendResult> answer) {
        TxnVerification.View view = shard.txnView(producerId);
        if (view.openIn(producerEpoch)) {
            logs.appendTransactional(shard, batch, epoch, TxnVerification.OPEN, answer);
            return CompletableFuture.completedFuture(null);
        }
        return verifyRetrying(transactionalId, producerId, producerEpoch, shard, add, txnSettings.addPartitionsRetryBackoffMs(),
                System.nanoTime() + txnSettings.addPartitionsRetryBackoffMaxMs() * 1_000_000L).thenAccept(error -> {
            if (error == Errors.NONE && add) {
                // the coordinator took the partition into the transaction only once the previous one was complete, its
                // markers written: what the shard shows now is after them; a later abort moves the epoch on, which the
                // log refuses this batch by (transaction version 2)
                TxnVerification.View now = shard.txnView(producerId);
                if (now.open() && !now.openIn(producerEpoch)) {
                    answer.accept(AppendResult.failed(Errors.NOT_ENOUGH_REPLICAS, "the previous transaction's marker has not"
                            + " reached " + shard.topicPartition() + " yet; retry"));
                } else {
                    logs.appendTransactional(shard, batch, epoch, now.openIn(producerEpoch) ? TxnVerification.OPEN : now.lastTxnEnd(), answer);
                }
            } else if (error == Errors.NONE) {
                logs.appendTransactional(shard, batch, epoch, view.lastTxnEnd(), answer);
            } else {
                answer.accept(AppendResult.failed(unverified(error), "Unable to verify the partition has been added to the "
                        + "transaction: " + error + (error == Errors.INVALID_TXN_STATE ? " (Partition was not added to the transaction)" : "")));
            }
        });
    }

    /**
     * Asks the coordinator; while it answers CONCURRENT_TRANSACTIONS (the producer's previous transaction is still being
     * completed, its markers written) or the shard still shows that transaction open, asks again after {@code backoffMs}
     * until the deadline, as Kafka's leaders do (add.partitions.to.txn.retry.backoff.*), so a producer that begins its
     * next transaction at once is not sent back with an error that costs it a metadata refresh.
     */
    private CompletableFuture<Errors> verifyRetrying(String transactionalId, long producerId, short producerEpoch, Shard shard, boolean add,
                                                     int backoffMs, long deadlineNanos) {
        return verifier.verify(transactionalId, producerId, producerEpoch, shard.topicPartition(), add).thenCompose(error -> {
            boolean previousStillOpen = error == Errors.NONE && add && shard.txnView(producerId).open()
                    && !shard.txnView(producerId).openIn(producerEpoch);
            if ((error == Errors.CONCURRENT_TRANSACTIONS || previousStillOpen) && System.nanoTime() - deadlineNanos < 0) {
                return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(backoffMs, java.util.concurrent.TimeUnit.MILLISECONDS))
                        .thenCompose(ignored -> verifyRetrying(transactionalId, producerId, producerEpoch, shard, add, backoffMs, deadlineNanos));
            }
            return CompletableFuture.completedFuture(error);
        });
    }

    /**
     * Kafka's translation of a failed verification: retriable coordinator troubles become NOT_ENOUGH_REPLICAS, which
     * every client retries without a metadata refresh; the rest as they are.
     */
    static Errors unverified(Errors error) {
        return switch (error) {
            case CONCURRENT_TRANSACTIONS, NETWORK_EXCEPTION, COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR,
                 REQUEST_TIMED_OUT -> Errors.NOT_ENOUGH_REPLICAS;
            default -> error;
        };
    }

    private static void fill(PartitionProduceResponse pr, AppendResult result) {
        pr.setErrorCode(result.error().code())
                .setErrorMessage(result.message())
                .setBaseOffset(result.alreadyWritten() ? -1 : result.baseOffset())
                .setLogStartOffset(result.logStartOffset());
    }

    private static ProduceResponseData rejectAll(ProduceRequestData request, Errors error, String message) {
        ProduceResponseData response = new ProduceResponseData();
        for (ProduceRequestData.TopicProduceData topic : request.topicData()) {
            TopicProduceResponse tr = new TopicProduceResponse().setName(topic.name()).setTopicId(topic.topicId());
            for (ProduceRequestData.PartitionProduceData p : topic.partitionData()) {
                tr.partitionResponses().add(new PartitionProduceResponse().setIndex(p.index())
                        .setErrorCode(error.code()).setErrorMessage(message).setBaseOffset(-1));
            }
            response.responses().add(tr);
        }
        return response;
    }

    private static long bound(String topicSetting, long brokerDefault) {
        return topicSetting == null ? brokerDefault : Long.parseLong(topicSetting);
    }
}
