package io.capstan.broker.replica;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The leader's view of one shard's replicas: how far each follower has fetched, when it was last caught up, and
 * from that the high watermark (the smallest log end among the in-sync replicas) and the ISR changes the leader
 * should write (shrink: a follower behind for longer than replica.lag.time.max.ms; expand: a follower that has
 * reached the high watermark). Pure state and decisions; the replica manager applies them. Not thread-safe.
 */
public final class ReplicaTracker {
    private final int leaderId;
    private final List<Integer> replicas;
    private final long lagMaxMs;
    private final Set<Integer> isr;
    private final Map<Integer, Long> logEnd = new HashMap<>();
    private final Map<Integer, Long> lastCaughtUpMs = new HashMap<>();
    /** Each follower's log start as its last fetch said (DeleteRecords waits for the in-sync ones to pass an offset). */
    private final Map<Integer, Long> logStart = new HashMap<>();
    /** Followers heard from since this leader took over or dropped them: only they can rejoin the ISR (a dead one has not fetched). */
    private final Set<Integer> fetched = new java.util.HashSet<>();
    /**
     * Followers an ISR write still in flight adds. The high watermark waits for them as if they were in already (Kafka's
     * "maximal ISR", KIP-497): the moment the write lands they count as in sync and may be elected, so nothing may be
     * acknowledged meanwhile that they do not have.
     */
    private final Set<Integer> joining = new java.util.HashSet<>();
    private long highWatermark;

    public ReplicaTracker(int leaderId, List<Integer> replicas, List<Integer> isr, long leaderLogEnd, long highWatermark,
                          long nowMs, long lagMaxMs) {
        if (!isr.contains(leaderId)) {
            throw new IllegalArgumentException("leader " + leaderId + " must be in the ISR " + isr);
        }
        this.leaderId = leaderId;
        this.replicas = List.copyOf(replicas);
        this.isr = new LinkedHashSet<>(isr);
        this.lagMaxMs = lagMaxMs;
        this.highWatermark = highWatermark;
        logEnd.put(leaderId, leaderLogEnd);
        for (int r : replicas) {
            // a new leader gives every follower a full lag period before judging it
            lastCaughtUpMs.put(r, nowMs);
            logEnd.putIfAbsent(r, r == leaderId ? leaderLogEnd : highWatermark);
        }
    }

    /** The leader appended; returns the new high watermark (it moves only if the leader is the whole ISR). */
    public long leaderAppended(long newLogEnd) {
        logEnd.put(leaderId, newLogEnd);
        lastCaughtUpMs.put(leaderId, Long.MAX_VALUE);
        return advance();
    }

    /**
     * A follower fetched from {@code fetchOffset}, which says its log ends there. It counts as caught up when it has
     * everything the leader had. Returns the new high watermark.
     */
    public long followerFetched(int replicaId, long fetchOffset, long nowMs) {
        if (!replicas.contains(replicaId) || replicaId == leaderId) {
            throw new IllegalArgumentException("broker " + replicaId + " is not a follower of this shard (replicas " + replicas + ")");
        }
        logEnd.put(replicaId, fetchOffset);
        fetched.add(replicaId);
        if (fetchOffset >= logEnd.get(leaderId)) {
            lastCaughtUpMs.put(replicaId, nowMs);
        }
        return advance();
    }

    /** Records the furthest-behind follower lacks of the leader's log, as its last fetch said (0 with no followers). */
    public long maxFollowerLagRecords() {
        long leaderEnd = logEnd.get(leaderId);
        long max = 0;
        for (int r : replicas) {
            if (r != leaderId) {
                max = Math.max(max, leaderEnd - logEnd.get(r));
            }
        }
        return max;
    }

    /**
     * How long ago the follower caught up longest ago last had everything the leader had: what replica.lag.time.max.ms
     * is compared with (0 with no followers).
     */
    public long maxFollowerLagMs(long nowMs) {
        long max = 0;
        for (int r : replicas) {
            if (r != leaderId) {
                max = Math.max(max, nowMs - lastCaughtUpMs.get(r));
            }
        }
        return max;
    }

    /** A follower's fetch said where its log starts. */
    public void followerLogStart(int replicaId, long start) {
        logStart.put(replicaId, start);
    }

    /**
     * The lowest log start among the in-sync replicas, the leader's being {@code leaderLogStart}: records below it are
     * gone from every replica that may lead next (Kafka's low watermark). A follower not heard from counts as 0.
     */
    public long lowWatermark(long leaderLogStart) {
        long low = leaderLogStart;
        for (int r : isr) {
            if (r != leaderId) {
                low = Math.min(low, logStart.getOrDefault(r, 0L));
            }
        }
        return low;
    }

    private long advance() {
        long min = Long.MAX_VALUE;
        for (int r : isr) {
            min = Math.min(min, logEnd.get(r));
        }
        for (int r : joining) {
            min = Math.min(min, logEnd.get(r));
        }
        // the high watermark never moves back: a shrinking ISR can only raise the minimum
        highWatermark = Math.max(highWatermark, min);
        return highWatermark;
    }

    /**
     * The ISR the leader should write now, or empty if it should stay. Only brokers in {@code alive} (holding a lease) may
     * rejoin, as in Kafka (KIP-841): a broker that released its lease to stop still fetches until its fetchers close,
     * and those last fetches must not bring it back into an ISR the controller just took it out of.
     */
    public Optional<List<Integer>> isrChange(long nowMs, Set<Integer> alive) {
        Set<Integer> next = new LinkedHashSet<>();
        for (int r : replicas) {
            boolean inSync = isr.contains(r);
            if (r == leaderId) {
                next.add(r);
            } else if (inSync && nowMs - lastCaughtUpMs.get(r) <= lagMaxMs) {
                next.add(r);
            } else if (!inSync && alive.contains(r) && fetched.contains(r) && logEnd.get(r) >= highWatermark) {
                // as in Kafka: reaching the high watermark is enough; from then on the HW waits for it
                next.add(r);
            }
        }
        return next.equals(isr) ? Optional.empty() : Optional.of(new ArrayList<>(next));
    }

    /**
     * The leader is writing {@code proposed} (from {@link #isrChange}): until a committed ISR is learned, the followers it
     * adds hold the high watermark back with the in-sync ones. Whether the write fails or wins, the ISR learned next
     * (from the write or from the watch) ends this.
     */
    public void proposing(List<Integer> proposed) {
        for (int r : proposed) {
            if (!isr.contains(r)) {
                joining.add(r);
            }
        }
    }

    /** Once the new ISR is written (compare-and-set won), the tracker follows it; a re-added follower starts a fresh lag period. */
    public long isrChanged(List<Integer> newIsr, long nowMs) {
        for (int r : newIsr) {
            if (!isr.contains(r)) {
                lastCaughtUpMs.put(r, nowMs);
            }
        }
        for (int r : isr) {
            if (!newIsr.contains(r)) {
                // its last fetch may still reach an idle shard's high watermark: only a fetch after this one counts
                fetched.remove(r);
            }
        }
        isr.clear();
        isr.addAll(newIsr);
        joining.clear();
        return advance();
    }

    public long highWatermark() { return highWatermark; }
    public List<Integer> isr() { return List.copyOf(isr); }
    public long logEnd(int replicaId) { return logEnd.get(replicaId); }

    /** acks=all: may a batch ending at {@code offset} be acknowledged? */
    public boolean committed(long lastOffset) {
        return highWatermark > lastOffset;
    }
}
