package io.capstan.broker.kafka;

import io.capstan.broker.log.TxnMarker;
import io.capstan.broker.txn.MarkerWriter;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerPartitionResult;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerResult;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerTopicResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * WriteTxnMarkers: a transaction coordinator (or {@code kafka-transactions abort}, through the admin client) ends a
 * producer's transaction in the partitions this broker leads by writing a COMMIT or ABORT marker, answered once the
 * in-sync replicas have it. Only brokers and operators holding ClusterAction may, as in Kafka: a marker decides what
 * every read_committed consumer sees.
 */
public final class WriteTxnMarkersHandler implements ApiHandler {
    private final MarkerWriter markers;

    public WriteTxnMarkersHandler(MarkerWriter markers) {
        this.markers = markers;
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
                    if (!authorized) {
                        pr.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code());
                        continue;
                    }
                    pending.incrementAndGet();
                    markers.write(new TopicPartition(topic.name(), index), marker.producerId(), marker.producerEpoch(), txnMarker)
                            .thenAccept(error -> {
                                pr.setErrorCode(error.code());
                                countDown.run();
                            });
                }
            }
        }
        countDown.run();
        return done;
    }
}
