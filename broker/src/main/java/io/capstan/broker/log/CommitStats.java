package io.capstan.broker.log;

/** Where the group committer reports each round; the admin layer turns these into Prometheus metrics. */
public interface CommitStats {
    void round(int batches, long bytes, long writeNanos);

    void failed();

    CommitStats NONE = new CommitStats() {
        @Override
        public void round(int batches, long bytes, long writeNanos) { }

        @Override
        public void failed() { }
    };
}
