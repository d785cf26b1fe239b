package io.capstan.broker.replica;

import io.capstan.broker.log.CommitListener;
import io.capstan.broker.log.Shard;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.protocol.Errors;

/**
 * What the Kafka handlers ask of replication: may this broker take writes and serve reads for a shard, when is an
 * acks=all write replicated, and is a follower's fetch in its leader's epoch. {@link ReplicaManager} answers.
 */
public interface Replication extends CommitListener {

    /** NONE when this broker leads the shard and may append with these acks; else the error to answer. */
    Errors canAppend(Shard shard, short acks, int minInsyncReplicas);

    /** Completes with NONE once every in-sync replica has records up to {@code lastOffset}, or with the error to answer. */
    CompletableFuture<Errors> awaitReplicated(Shard shard, long lastOffset, int minInsyncReplicas, long timeoutMs);

    /** NONE when consumers may read the shard here (this broker leads it). */
    Errors canServeConsumers(Shard shard);

    /**
     * A follower fetched from {@code fetchOffset} in {@code leaderEpoch}, its log starting at {@code logStartOffset}:
     * NONE (progress recorded) or why it is refused.
     */
    Errors followerFetched(Shard shard, int replicaId, int leaderEpoch, long fetchOffset, long logStartOffset);

    /** Leader only: the lowest log start among the shard's in-sync replicas (Kafka's low watermark), or -1 if not leading. */
    long lowWatermark(Shard shard);

    /** For requests that carry the client's idea of the leader epoch (-1: not checked). */
    Errors checkLeaderEpoch(Shard shard, int currentLeaderEpoch);

    /**
     * Leader only: whether what {@code replicaId} fetches of the shard counts against the leader's replication throttle
     * (the topic's leader.replication.throttled.replicas names this broker's replica and the follower is not in sync).
     */
    boolean leaderThrottles(Shard shard, int replicaId);

    /** The replication throttle's rates (KIP-73). */
    ReplicationQuotas quotas();
}
