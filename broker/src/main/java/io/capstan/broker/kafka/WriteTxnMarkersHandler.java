package io.capstan.broker.kafka;

import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import io.capstan.broker.log.TxnMarker;
import io.capstan.broker.replica.Replication;
import io.capstan.config.BrokerConfig;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerPartitionResult;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerResult;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerTopicResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * WriteTxnMarkers: a transaction coordinator (or {@code kafka-transactions abort}, through the admin client) ends a
 * producer's transaction in the partitions this broker leads by writing a COMMIT or ABORT marker, answered once the
 * in-sync replicas have it (markers are always written with acks=all). Only brokers and operators holding ClusterAction
 * may, as in Kafka: a marker decides what every read_committed consumer sees.
 */
public final class WriteTxnMarkersHandler implements ApiHandler {
    private static final Logger log = LoggerFactory.getLogger(WriteTxnMarkersHandler.class);
    /** How long a marker may wait for the in-sync replicas (Kafka uses its request timeout, 30 s by default). */
    private static final int REPLICATION_TIMEOUT_MS = 30_000;

    private final LogManager logs;
    private final Replication replication;
    private final Supplier<BrokerConfig> config;

    public WriteTxnMarkersHandler(LogManager logs, Replication replication, Supplier<BrokerConfig> config) {
        this.logs = logs;
        this.replication = replication;
        this.config = config;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        WriteTxnMarkersRequestData request = (WriteTxnMarkersRequestData) message;
        WriteTxnMarkersResponseData response = new WriteTxnMarkersResponseData();
        boolean authorized = context.allowedOnCluster(AclOperation.CLUSTER_ACTION);
        CompletableFuture<ApiMessage> done = new CompletableFuture<>();
        AtomicInteger pending = new AtomicInteger(1);
        Runnable countDown = () -> {
            if (pending.decrementAndGet() == 0) {
                done.complete(response);
            }
        };
        for (WriteTxnMarkersRequestData.WritableTxnMarker marker : request.markers()) {
            WritableTxnMarkerResult result = new WritableTxnMarkerResult().setProducerId(marker.producerId());
            response.markers().add(result);
            TxnMarker txnMarker = new TxnMarker(marker.transactionResult(), marker.coordinatorEpoch());
            for (WriteTxnMarkersRequestData.WritableTxnMarkerTopic topic : marker.topics()) {
                WritableTxnMarkerTopicResult tr = new WritableTxnMarkerTopicResult().setName(topic.name());
                result.topics().add(tr);
                for (int index : topic.partitionIndexes()) {
                    WritableTxnMarkerPartitionResult pr = new WritableTxnMarkerPartitionResult().setPartitionIndex(index);
                    tr.partitions().add(pr);
                    Shard shard = logs.catalog().shard(new TopicPartition(topic.name(), index));
                    Errors refused = !authorized ? Errors.CLUSTER_AUTHORIZATION_FAILED
                            : shard == null ? Errors.UNKNOWN_TOPIC_OR_PARTITION : Errors.NONE;
                    int minInsync = minInsync(topic.name());
                    int leaderEpoch = shard == null ? -1 : shard.leaderEpoch();
                    if (refused == Errors.NONE) {
                        refused = replication.canAppend(shard, (short) -1, minInsync);
                    }
                    if (refused != Errors.NONE) {
                        pr.setErrorCode(refused.code());
                        continue;
                    }
                    pending.incrementAndGet();
                    logs.appendMarker(shard, marker.producerId(), marker.producerEpoch(), txnMarker, leaderEpoch, appended -> {
                        if (appended.error() != Errors.NONE) {
                            log.info("refused a {} marker of producer {} epoch {} on {}: {}", txnMarker.commit() ? "COMMIT" : "ABORT",
                                    marker.producerId(), marker.producerEpoch(), shard, appended.message());
                            pr.setErrorCode(appended.error().code());
                            countDown.run();
                            return;
                        }
                        replication.awaitReplicated(shard, appended.baseOffset(), minInsync, REPLICATION_TIMEOUT_MS).thenAccept(error -> {
                            pr.setErrorCode(error.code());
                            countDown.run();
                        });
                    });
                }
            }
        }
        countDown.run();
        return done;
    }

    private int minInsync(String topic) {
        var meta = logs.catalog().topic(topic);
        String setting = meta == null ? null : meta.configs().get("min.insync.replicas");
        return setting == null ? config.get().replication().minInsyncReplicas() : Integer.parseInt(setting);
    }
}
