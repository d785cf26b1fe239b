package io.capstan.broker.txn;

import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import io.capstan.broker.log.TopicMeta;
import io.capstan.broker.log.TxnMarker;
import io.capstan.broker.replica.Replication;
import io.capstan.config.BrokerConfig;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a transaction marker into a partition this broker leads and completes once the in-sync replicas have it
 * (markers are always written with acks=all, as in Kafka); then tells whoever listens on that topic (the group
 * coordinator, whose transactional offset commits a marker on its shard commits or discards).
 */
public final class MarkerWriter {
    private static final Logger log = LoggerFactory.getLogger(MarkerWriter.class);
    /** How long a marker may wait for the in-sync replicas (Kafka uses its request timeout, 30 s by default). */
    private static final int REPLICATION_TIMEOUT_MS = 30_000;

    /**
     * Told of a marker as soon as it is in the log of a shard of the topic it listens to, on the log's thread (so in log
     * order with the listener's own writes), with the replication to wait for; returns that replication's outcome once
     * it has acted on it, and the marker's write completes only then.
     */
    public interface Listener {
        CompletableFuture<Errors> markerAppended(Shard shard, long producerId, boolean commit, long offset,
                                                 CompletableFuture<Errors> replication);
    }

    private final LogManager logs;
    private final Replication replication;
    private final Supplier<BrokerConfig> config;
    private final Map<String, Listener> listeners = new ConcurrentHashMap<>();

    public MarkerWriter(LogManager logs, Replication replication, Supplier<BrokerConfig> config) {
        this.logs = logs;
        this.replication = replication;
        this.config = config;
    }

    public void listen(String topic, Listener listener) {
        listeners.put(topic, listener);
    }

    public CompletableFuture<Errors> write(TopicPartition tp, long producerId, short producerEpoch, TxnMarker marker) {
        if (producerId < 0 || producerEpoch < 0) {
            return CompletableFuture.completedFuture(producerId < 0 ? Errors.INVALID_PRODUCER_ID_MAPPING : Errors.INVALID_PRODUCER_EPOCH);
        }
        Shard shard = logs.catalog().shard(tp);
        if (shard == null) {
            return CompletableFuture.completedFuture(Errors.UNKNOWN_TOPIC_OR_PARTITION);
        }
        int minInsync = minInsync(tp.topic());
        int leaderEpoch = shard.leaderEpoch(); // read before the check: the log refuses the marker if the shard leaves it
        Errors refused = replication.canAppend(shard, (short) -1, minInsync);
        if (refused != Errors.NONE) {
            return CompletableFuture.completedFuture(refused);
        }
        CompletableFuture<Errors> done = new CompletableFuture<>();
        logs.appendMarker(shard, producerId, producerEpoch, marker, leaderEpoch, appended -> {
            if (appended.error() != Errors.NONE) {
                log.info("refused a {} marker of producer {} epoch {} on {}: {}", marker.commit() ? "COMMIT" : "ABORT",
                        producerId, producerEpoch, shard, appended.message());
                done.complete(appended.error());
                return;
            }
            CompletableFuture<Errors> replicated = replication.awaitReplicated(shard, appended.baseOffset(), minInsync, REPLICATION_TIMEOUT_MS);
            Listener listener = listeners.get(tp.topic());
            (listener == null ? replicated : listener.markerAppended(shard, producerId, marker.commit(), appended.baseOffset(), replicated))
                    .thenAccept(done::complete);
        });
        return done;
    }

    private int minInsync(String topic) {
        TopicMeta meta = logs.catalog().topic(topic);
        String setting = meta == null ? null : meta.configs().get("min.insync.replicas");
        return setting == null ? config.get().replication().minInsyncReplicas() : Integer.parseInt(setting);
    }
}
