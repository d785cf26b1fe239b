package io.capstan.broker.txn;

import io.capstan.broker.log.TxnMarker;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers a decided transaction's markers to every partition in it: written here for partitions this broker leads,
 * sent as one WriteTxnMarkers per other leader, retried every {@link #RETRY_MS} until each partition has its marker
 * (or its topic is gone, or this broker stopped coordinating). Kafka's TransactionMarkerChannelManager does the same.
 */
public final class MarkerSender {
    private static final Logger log = LoggerFactory.getLogger(MarkerSender.class);
    static final long RETRY_MS = 100;
    /** {@link Leaders#leaderOf} for a partition whose topic no longer exists: its marker is not needed any more. */
    public static final int GONE = -2;

    /** The current leader of a partition per the cluster metadata, -1 if none now, {@link #GONE} if the topic is deleted. */
    public interface Leaders {
        int leaderOf(TopicPartition tp);
    }

    /** Sends WriteTxnMarkers to another broker. */
    public interface Remote {
        CompletableFuture<WriteTxnMarkersResponseData> send(int brokerId, WriteTxnMarkersRequestData request);
    }

    private final int self;
    private final Leaders leaders;
    private final MarkerWriter local;
    private final Remote remote;
    private final ScheduledExecutorService retries;

    public MarkerSender(int self, Leaders leaders, MarkerWriter local, Remote remote, ScheduledExecutorService retries) {
        this.self = self;
        this.leaders = leaders;
        this.local = local;
        this.remote = remote;
        this.retries = retries;
    }

    /** Completes once every partition of {@code prepared} has its marker; never completes if coordination stops first. */
    public CompletableFuture<Void> send(TxnMetadata prepared, int coordinatorEpoch, BooleanSupplier coordinating) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Set<TopicPartition> remaining = ConcurrentHashMap.newKeySet();
        remaining.addAll(prepared.partitions());
        TxnMarker marker = new TxnMarker(prepared.state() == TxnState.PREPARE_COMMIT, coordinatorEpoch);
        round(prepared, marker, remaining, coordinating, done);
        return done;
    }

    private void round(TxnMetadata txn, TxnMarker marker, Set<TopicPartition> remaining, BooleanSupplier coordinating,
                       CompletableFuture<Void> done) {
        if (!coordinating.getAsBoolean()) {
            return; // the next coordinator completes it from the prepared state it loads
        }
        if (remaining.isEmpty()) {
            done.complete(null);
            return;
        }
        Map<Integer, List<TopicPartition>> byLeader = new HashMap<>();
        for (TopicPartition tp : remaining) {
            int leader = leaders.leaderOf(tp);
            if (leader == GONE) {
                remaining.remove(tp);
            } else if (leader >= 0) {
                byLeader.computeIfAbsent(leader, l -> new ArrayList<>()).add(tp);
            }
        }
        List<CompletableFuture<Void>> attempts = new ArrayList<>();
        byLeader.forEach((leader, partitions) -> attempts.add(leader == self
                ? writeHere(txn, marker, partitions, remaining) : sendTo(leader, txn, marker, partitions, remaining)));
        CompletableFuture.allOf(attempts.toArray(CompletableFuture[]::new)).whenComplete((ok, error) -> {
            if (remaining.isEmpty()) {
                round(txn, marker, remaining, coordinating, done);
            } else {
                retries.schedule(() -> round(txn, marker, remaining, coordinating, done), RETRY_MS, TimeUnit.MILLISECONDS);
            }
        });
    }

    private CompletableFuture<Void> writeHere(TxnMetadata txn, TxnMarker marker, List<TopicPartition> partitions,
                                              Set<TopicPartition> remaining) {
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            writes.add(local.write(tp, txn.producerId(), txn.producerEpoch(), marker)
                    .thenAccept(error -> settled(txn, tp, error, remaining)));
        }
        return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
    }

    private CompletableFuture<Void> sendTo(int leader, TxnMetadata txn, TxnMarker marker, List<TopicPartition> partitions,
                                           Set<TopicPartition> remaining) {
        Map<String, List<Integer>> byTopic = new HashMap<>();
        partitions.forEach(tp -> byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition()));
        List<WriteTxnMarkersRequestData.WritableTxnMarkerTopic> topics = new ArrayList<>();
        byTopic.forEach((topic, indexes) -> topics.add(new WriteTxnMarkersRequestData.WritableTxnMarkerTopic().setName(topic)
                .setPartitionIndexes(indexes)));
        WriteTxnMarkersRequestData request = new WriteTxnMarkersRequestData().setMarkers(List.of(
                new WriteTxnMarkersRequestData.WritableTxnMarker().setProducerId(txn.producerId()).setProducerEpoch(txn.producerEpoch())
                        .setTransactionResult(marker.commit()).setCoordinatorEpoch(marker.coordinatorEpoch()).setTopics(topics)));
        return remote.send(leader, request).handle((response, failure) -> {
            if (failure != null) {
                log.info("writing the markers of '{}' at broker {} failed ({}); retrying", txn.transactionalId(), leader, failure.toString());
                return null;
            }
            for (WriteTxnMarkersResponseData.WritableTxnMarkerResult m : response.markers()) {
                for (WriteTxnMarkersResponseData.WritableTxnMarkerTopicResult t : m.topics()) {
                    for (WriteTxnMarkersResponseData.WritableTxnMarkerPartitionResult p : t.partitions()) {
                        settled(txn, new TopicPartition(t.name(), p.partitionIndex()), Errors.forCode(p.errorCode()), remaining);
                    }
                }
            }
            return null;
        });
    }

    /** A partition is done when its marker is there, or can never be written because a newer epoch's already is. */
    private static void settled(TxnMetadata txn, TopicPartition tp, Errors error, Set<TopicPartition> remaining) {
        switch (error) {
            case NONE -> remaining.remove(tp);
            case INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED -> {
                log.warn("the marker of '{}' (producer {} epoch {}) on {} was refused ({}): a newer epoch ended it there already",
                        txn.transactionalId(), txn.producerId(), txn.producerEpoch(), tp, error);
                remaining.remove(tp);
            }
            default -> log.debug("the marker of '{}' on {}: {}; retrying", txn.transactionalId(), tp, error);
        }
    }
}
