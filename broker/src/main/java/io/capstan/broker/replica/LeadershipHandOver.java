package io.capstan.broker.replica;

import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.view.ClusterView;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Controlled shutdown: hands every shard this broker leads to another live in-sync replica (a new epoch, this broker
 * out of the ISR) so producers move on at once instead of waiting for the lease to run out. A shard with no other
 * in-sync replica stays, and goes offline when the broker stops.
 */
final class LeadershipHandOver {
    private static final Logger log = LoggerFactory.getLogger(LeadershipHandOver.class);

    private LeadershipHandOver() {}

    /** Runs on the control thread (roles change only there); returns how many shards moved. */
    static int handOver(int me, ClusterView view, Map<TopicPartition, Role> roles, Consumer<TopicPartition> stoppedLeading) {
        Set<Integer> alive = view.aliveBrokerIds();
        int moved = 0;
        List<TopicPartition> staying = new java.util.ArrayList<>();
        for (Map.Entry<TopicPartition, Role> e : List.copyOf(roles.entrySet())) {
            if (!(e.getValue() instanceof Leading leading)) {
                continue;
            }
            Leading.Known known = leading.known;
            ShardState state = known.state();
            Optional<Integer> successor = state.replicas().stream()
                    .filter(r -> r != me && alive.contains(r) && state.isr().contains(r)).findFirst();
            if (successor.isEmpty()) {
                staying.add(e.getKey());
                continue;
            }
            ShardState next = state.electLeader(successor.get());
            try {
                view.shardStore().compareAndSet(next, known.version());
                roles.remove(e.getKey());
                stoppedLeading.accept(e.getKey());
                moved++;
                log.info("broker {}: handed {} to broker {} (epoch {}) before stopping", me, e.getKey(), successor.get(), next.leaderEpoch());
            } catch (ConflictException raced) {
                log.info("broker {}: {} changed while handing it over; the controller decides", me, e.getKey());
            }
        }
        if (!staying.isEmpty()) {
            log.warn("broker {}: {} shard(s) have no other live in-sync replica and go offline while this broker is away (first: {})",
                    me, staying.size(), staying.subList(0, Math.min(5, staying.size())));
        }
        return moved;
    }
}
