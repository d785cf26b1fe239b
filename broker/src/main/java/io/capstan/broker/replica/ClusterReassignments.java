package io.capstan.broker.replica;

import io.capstan.cluster.controller.Reassignment;
import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.Versioned;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.protocol.Errors;

/**
 * Starting and cancelling reassignments in the metadata store (the controller finishes them once the new replicas
 * are in sync). Decisions are {@link Reassignment}'s; this is the read / compare-and-set around them.
 */
public final class ClusterReassignments {
    /** What happened to one shard's request. */
    public record Outcome(Errors error, String message) {
        static final Outcome DONE = new Outcome(Errors.NONE, null);
    }

    private final MetadataStore store;
    private final java.util.function.LongSupplier clock;

    public ClusterReassignments(MetadataStore store, java.util.function.LongSupplier clock) {
        this.store = store;
        this.clock = clock;
    }

    /** {@code target} null cancels a running reassignment. */
    public Outcome alter(String topic, int partition, List<Integer> target, boolean allowReplicationFactorChange) {
        String key = ShardState.key(topic, partition);
        for (int attempt = 0; attempt < 10; attempt++) {
            Optional<Versioned> current = store.get(key);
            if (current.isEmpty()) {
                return new Outcome(Errors.UNKNOWN_TOPIC_OR_PARTITION, "no shard " + topic + "-" + partition);
            }
            ShardState shard = MetadataCodec.decode(current.get().value(), ShardState.class);
            ShardState next;
            if (target == null) {
                if (!shard.reassigning()) {
                    return new Outcome(Errors.NO_REASSIGNMENT_IN_PROGRESS, "no reassignment of " + topic + "-" + partition + " is running");
                }
                next = Reassignment.cancel(shard, alive());
            } else {
                if (!allowReplicationFactorChange && target.size() != shard.originalReplicas().size()) {
                    return new Outcome(Errors.INVALID_REPLICATION_FACTOR, "the new replica list " + target + " changes the replication factor "
                            + shard.originalReplicas().size() + ", which the request does not allow");
                }
                try {
                    next = Reassignment.start(shard, target, registered());
                } catch (IllegalArgumentException bad) {
                    return new Outcome(Errors.INVALID_REPLICA_ASSIGNMENT, bad.getMessage());
                }
            }
            try {
                store.compareAndSet(key, current.get().version(), MetadataCodec.encode(next));
                return Outcome.DONE;
            } catch (ConflictException raced) {
                // the leader or the controller changed the shard meanwhile: decide again on what it is now
            }
        }
        return new Outcome(Errors.CONCURRENT_TRANSACTIONS, "the shard kept changing while reassigning it; retry");
    }

    private Set<Integer> alive() {
        long now = clock.getAsLong();
        return store.list("brokers/").values().stream().map(v -> MetadataCodec.decode(v.value(), BrokerRegistration.class))
                .filter(b -> b.alive(now)).map(BrokerRegistration::id).collect(Collectors.toSet());
    }

    private Set<Integer> registered() {
        return store.list("brokers/").values().stream()
                .map(v -> MetadataCodec.decode(v.value(), BrokerRegistration.class).id()).collect(Collectors.toSet());
    }

    /** Every shard being reassigned now, read from the store. */
    public List<ShardState> running() {
        return store.list("shards/").values().stream().map(v -> MetadataCodec.decode(v.value(), ShardState.class))
                .filter(ShardState::reassigning).toList();
    }
}
