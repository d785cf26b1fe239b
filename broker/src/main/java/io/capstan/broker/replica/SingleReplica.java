package io.capstan.broker.replica;

import io.capstan.broker.log.Shard;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.protocol.Errors;

/** A broker on its own: it leads every shard it stores, and a durable local write is fully replicated. */
public final class SingleReplica implements Replication {
    private static final CompletableFuture<Errors> DONE = CompletableFuture.completedFuture(Errors.NONE);

    @Override
    public Errors canAppend(Shard shard, short acks, int minInsyncReplicas) {
        return acks == -1 && minInsyncReplicas > 1 ? Errors.NOT_ENOUGH_REPLICAS : Errors.NONE;
    }

    @Override
    public CompletableFuture<Errors> awaitReplicated(Shard shard, long lastOffset, int minInsyncReplicas, long timeoutMs) {
        return DONE;
    }

    @Override
    public Errors canServeConsumers(Shard shard) {
        return Errors.NONE;
    }

    @Override
    public Errors followerFetched(Shard shard, int replicaId, int leaderEpoch, long fetchOffset) {
        return Errors.NOT_LEADER_OR_FOLLOWER; // nobody follows a broker that is not in a cluster
    }

    @Override
    public Errors checkLeaderEpoch(Shard shard, int currentLeaderEpoch) {
        return EpochCheck.check(shard.leaderEpoch(), currentLeaderEpoch);
    }

    @Override
    public void committed(Shard shard) {
        // the high watermark is the durable log end; the log moved it already
    }
}
