package io.capstan.broker.replica;

import io.capstan.cluster.metadata.ShardState;

/**
 * Leading a shard in {@code epoch}; {@code known} is what this broker last read or wrote, replaced as a whole so that a
 * compare-and-set never names one version while changing another's state. The tracker's lock guards both.
 */
final class Leading implements Role {
    /** A shard's state and the store version it was read or written at, always together. */
    record Known(ShardState state, long version) {}

    final int epoch;
    final ReplicaTracker tracker;
    volatile Known known;

    Leading(int epoch, ReplicaTracker tracker, ShardState state, long version) {
        this.epoch = epoch;
        this.tracker = tracker;
        this.known = new Known(state, version);
    }

    ShardState state() {
        return known.state();
    }

    /**
     * Takes a newer state (the watch's or this broker's own write, whichever arrives first); false if not newer.
     * Callers hold the tracker's lock, so that the ISR the tracker follows and the state it was decided on agree.
     */
    boolean learned(ShardState state, long version) {
        if (version <= known.version()) {
            return false;
        }
        known = new Known(state, version);
        return true;
    }

    @Override
    public int epoch() { return epoch; }

    int isrSize() {
        synchronized (tracker) {
            return tracker.isr().size();
        }
    }
}
