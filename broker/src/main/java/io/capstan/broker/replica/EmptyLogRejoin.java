package io.capstan.broker.replica;

import io.capstan.cluster.metadata.ShardId;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.ShardStore;
import io.capstan.cluster.metadata.VersionedShard;
import io.capstan.cluster.view.ClusterView;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A broker whose log is new (a replaced disk, a data.dir moved aside because it was damaged) holds none of the records
 * the metadata may still count it in sync for. Before it registers, it takes itself out of every in-sync replica set
 * (handing leadership to another in-sync replica where it led), so it can never be elected with an empty log; it rejoins
 * each set the usual way, once it has copied the shard from its leader. Kafka closes the same gap with broker epochs in
 * the ISR (KIP-903) and eligible leader replicas (KIP-966).
 */
public final class EmptyLogRejoin {
    private static final Logger log = LoggerFactory.getLogger(EmptyLogRejoin.class);

    private EmptyLogRejoin() {}

    /** What a broker with an empty log does to one shard's state: nothing, leave the ISR, or find nobody to leave it to. */
    sealed interface Step permits Keep, Leave, OnlyCopyLost {}
    record Keep() implements Step {}
    record Leave(ShardState next) implements Step {}
    /** It was the shard's only in-sync replica: the records it held are gone, and no other replica may take over. */
    record OnlyCopyLost() implements Step {}

    static Step step(ShardState state, int me) {
        if (!state.isr().contains(me)) {
            return new Keep();
        }
        Optional<Integer> other = state.isr().stream().filter(r -> r != me).findFirst();
        if (other.isEmpty()) {
            return new OnlyCopyLost();
        }
        List<Integer> isr = state.isr().stream().filter(r -> r != me).toList();
        return new Leave(state.leader() == me ? state.electLeader(other.get()) : state.withIsr(isr));
    }

    /** Applies {@link #step} to every shard by compare-and-set, re-reading the ones that changed meanwhile; returns the shards whose only copy was lost. */
    public static List<ShardId> leaveInSyncSets(ClusterView view, int me) {
        List<ShardId> lost = new ArrayList<>();
        int left = 0;
        for (int attempt = 0; attempt < 20; attempt++) {
            List<ShardStore.Write> writes = new ArrayList<>();
            lost.clear();
            // from the store itself, not the cache: a write that lost a race is retried on what won it
            for (VersionedShard s : view.shardStore().list()) {
                Step step = step(s.state(), me);
                if (step instanceof Leave leave) {
                    writes.add(new ShardStore.Write(leave.next(), s.version()));
                } else if (step instanceof OnlyCopyLost) {
                    lost.add(s.id());
                }
            }
            if (writes.isEmpty()) {
                break;
            }
            Map<ShardId, Long> written = view.shardStore().compareAndSetAll(writes);
            left += written.size();
            if (written.size() == writes.size()) {
                break;
            }
        }
        if (left > 0) {
            log.warn("broker {} starts with an empty log: it left the in-sync replicas of {} shard(s) and copies them again from their leaders", me, left);
        }
        if (!lost.isEmpty()) {
            log.error("broker {} starts with an empty log but was the only in-sync replica of {} shard(s): their records are lost (first: {})",
                    me, lost.size(), lost.subList(0, Math.min(10, lost.size())));
        }
        return List.copyOf(lost);
    }
}
