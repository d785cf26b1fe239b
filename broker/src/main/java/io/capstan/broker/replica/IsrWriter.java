package io.capstan.broker.replica;

import io.capstan.cluster.DaemonThreads;
import io.capstan.cluster.metadata.ShardId;
import io.capstan.cluster.metadata.ShardStore;
import io.capstan.cluster.view.ClusterView;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leader only: writes the ISR changes the trackers ask for, by compare-and-set on each shard's version, one store
 * write per group of shards (a broker rejoining after a restart makes thousands of shards expand at once). The writes
 * go to their own threads, several groups at once and one write per shard at a time, so that they never hold up the
 * role changes the control thread makes.
 */
final class IsrWriter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(IsrWriter.class);

    /** Moves a shard's high watermark (an ISR that shrank may let it pass records the removed follower lacked). */
    interface HighWatermarks {
        void advance(TopicPartition tp, long highWatermark);
    }

    private final int me;
    private final ClusterView view;
    private final Map<TopicPartition, Role> roles;
    private final ScheduledExecutorService control;
    private final HighWatermarks highWatermarks;
    private final Runnable resync;
    private final Set<TopicPartition> inFlight = ConcurrentHashMap.newKeySet();
    private final ExecutorService writers = Executors.newFixedThreadPool(4, DaemonThreads.named("capstan-isr-writer"));

    /**
     * {@code roles}: read, never changed. {@code control}: where retries are scheduled (and whose shutdown ends them).
     * {@code resync}: asks the control thread to read the view again after a write lost to a newer state.
     */
    IsrWriter(int me, ClusterView view, Map<TopicPartition, Role> roles, ScheduledExecutorService control,
              HighWatermarks highWatermarks, Runnable resync) {
        this.me = me;
        this.view = view;
        this.roles = roles;
        this.control = control;
        this.highWatermarks = highWatermarks;
        this.resync = resync;
    }

    /** An ISR change a leader decided: the shard's state it was decided on and the ISR to write over it. */
    private record Proposal(TopicPartition tp, Leading leading, Leading.Known base, List<Integer> isr) {
        ShardStore.Write write() {
            return new ShardStore.Write(base.state().withIsr(isr), base.version());
        }

        ShardId id() {
            return new ShardId(tp.topic(), tp.partition());
        }
    }

    /** One pass over the shards this broker leads: every ISR change their trackers want, grouped and submitted. */
    void maintain() {
        try {
            Map<String, List<Proposal>> byGroup = new HashMap<>();
            Set<Integer> alive = view.aliveBrokerIds();
            for (Map.Entry<TopicPartition, Role> e : roles.entrySet()) {
                if (!(e.getValue() instanceof Leading leading)) {
                    continue;
                }
                TopicPartition tp = e.getKey();
                synchronized (leading.tracker) {
                    Optional<List<Integer>> change = leading.tracker.isrChange(view.now(), alive);
                    if (change.isEmpty() || !inFlight.add(tp)) {
                        continue;
                    }
                    leading.tracker.proposing(change.get());
                    byGroup.computeIfAbsent(ShardStore.groupKey(tp.topic(), tp.partition()), k -> new ArrayList<>())
                            .add(new Proposal(tp, leading, leading.known, change.get()));
                }
            }
            byGroup.forEach(this::submit);
        } catch (RuntimeException e) {
            log.warn("broker {}: ISR maintenance failed, retrying: {}", me, e.toString());
        }
    }

    /**
     * A write that failed without an answer may have landed: the followers it adds keep holding the high watermark
     * back, and the same compare-and-set is tried again until it wins or loses (after which the watch brings the
     * truth). Only then may another ISR change of that shard be written.
     */
    private void submit(String group, List<Proposal> proposals) {
        writers.execute(() -> {
            List<Proposal> unsettled = List.of();
            try {
                write(group, proposals);
            } catch (RuntimeException failed) {
                unsettled = proposals.stream().filter(p -> roles.get(p.tp()) == p.leading()).toList();
                log.warn("broker {}: cannot write the in-sync replicas of {} shards of {} ({}); trying again", me,
                        proposals.size(), group, failed.toString());
            }
            if (control.isShutdown()) {
                unsettled = List.of();
            }
            for (Proposal p : proposals) {
                if (!unsettled.contains(p)) {
                    inFlight.remove(p.tp());
                }
            }
            if (!unsettled.isEmpty()) {
                List<Proposal> again = unsettled;
                control.schedule(() -> submit(group, again), 200, TimeUnit.MILLISECONDS);
            }
        });
    }

    private void write(String group, List<Proposal> proposals) {
        Map<ShardId, Long> written = view.shardStore().writeGroup(group, proposals.stream().map(Proposal::write).toList());
        boolean lost = false;
        for (Proposal p : proposals) {
            Long version = written.get(p.id());
            if (version == null) {
                // the shard changed underneath (the controller, a new epoch, or this very write landing earlier): the
                // watch brings the newer state and with it the ISR the high watermark follows
                lost = true;
                continue;
            }
            long hw;
            synchronized (p.leading().tracker) {
                if (!p.leading().learned(p.write().next(), version)) {
                    continue; // the watch already brought this state or a newer one, and the tracker follows that
                }
                hw = p.leading().tracker.isrChanged(p.isr(), view.now());
            }
            log.info("broker {}: in-sync replicas of {} are now {}", me, p.tp(), p.isr());
            highWatermarks.advance(p.tp(), hw);
        }
        if (lost) {
            resync.run();
        }
    }

    @Override
    public void close() {
        writers.shutdownNow();
    }
}
