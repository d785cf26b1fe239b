package io.capstan.cluster.topics;

import io.capstan.cluster.controller.Reassignment;
import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.ShardStore;
import io.capstan.cluster.metadata.VersionedShard;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * Starting and cancelling reassignments in the metadata store (the controller finishes them once the new replicas
 * are in sync). Decisions are {@link Reassignment}'s; this is the read / compare-and-set around them. Answers in the
 * cluster's terms; the Kafka API maps them to error codes.
 */
public final class Reassignments {
    /** What became of one shard's request. */
    public enum Result { STARTED_OR_CANCELLED, UNKNOWN_SHARD, NONE_RUNNING, REPLICATION_FACTOR_CHANGE, INVALID_REPLICAS, KEPT_CHANGING }

    /** The result and, unless it worked, why. */
    public record Outcome(Result result, String message) {
        static final Outcome DONE = new Outcome(Result.STARTED_OR_CANCELLED, null);

        public boolean done() {
            return result == Result.STARTED_OR_CANCELLED;
        }
    }

    private final MetadataStore store;
    private final LongSupplier clock;

    public Reassignments(MetadataStore store, LongSupplier clock) {
        this.store = store;
        this.clock = clock;
    }

    /** {@code target} null cancels a running reassignment. */
    public Outcome alter(String topic, int partition, List<Integer> target, boolean allowReplicationFactorChange) {
        ShardStore shards = new ShardStore(store);
        for (int attempt = 0; attempt < 10; attempt++) {
            Optional<VersionedShard> current = shards.get(topic, partition);
            if (current.isEmpty()) {
                return new Outcome(Result.UNKNOWN_SHARD, "no shard " + topic + "-" + partition);
            }
            ShardState shard = current.get().state();
            ShardState next;
            if (target == null) {
                if (!shard.reassigning()) {
                    return new Outcome(Result.NONE_RUNNING, "no reassignment of " + topic + "-" + partition + " is running");
                }
                next = Reassignment.cancel(shard, brokers(true));
            } else {
                if (!allowReplicationFactorChange && target.size() != shard.originalReplicas().size()) {
                    return new Outcome(Result.REPLICATION_FACTOR_CHANGE, "the new replica list " + target
                            + " changes the replication factor " + shard.originalReplicas().size() + ", which the request does not allow");
                }
                try {
                    next = Reassignment.start(shard, target, brokers(false));
                } catch (IllegalArgumentException bad) {
                    return new Outcome(Result.INVALID_REPLICAS, bad.getMessage());
                }
            }
            try {
                shards.compareAndSet(next, current.get().version());
                return Outcome.DONE;
            } catch (ConflictException raced) {
                // the leader or the controller changed the shard meanwhile: decide again on what it is now
            }
        }
        return new Outcome(Result.KEPT_CHANGING, "the shard kept changing while reassigning it; retry");
    }

    /** Registered brokers, or only those whose lease holds: read from the store, as the write that follows needs. */
    private Set<Integer> brokers(boolean aliveOnly) {
        long now = clock.getAsLong();
        return RegisteredBrokers.read(store).stream().filter(b -> !aliveOnly || b.alive(now)).map(BrokerRegistration::id)
                .collect(Collectors.toSet());
    }

    /** Every shard being reassigned now, read from the store. */
    public List<ShardState> running() {
        return new ShardStore(store).list().stream().map(VersionedShard::state).filter(ShardState::reassigning).toList();
    }
}
