package io.capstan.broker.log;

/** Where the group committer reports each round; the admin layer turns these into Prometheus metrics. */
public interface CommitStats {
    void round(int batches, long bytes, long writeNanos);

    /**
     * One appended batch's time in the log, stage by stage (the spans tracing names log.queue, log.write, log.sync.queue
     * and log.fsync): waiting for its round, the round's write, waiting for the fsync before (one runs at a time), its fsync.
     */
    void appended(long queueNanos, long writeNanos, long syncQueueNanos, long fsyncNanos);

    void failed();

    CommitStats NONE = new CommitStats() {
        @Override
        public void round(int batches, long bytes, long writeNanos) { }

        @Override
        public void appended(long queueNanos, long writeNanos, long syncQueueNanos, long fsyncNanos) { }

        @Override
        public void failed() { }
    };
}
