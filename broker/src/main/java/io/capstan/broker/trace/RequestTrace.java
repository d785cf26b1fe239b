package io.capstan.broker.trace;

/**
 * The moments of one request that its spans are built from, recorded as {@link System#nanoTime()} readings while it
 * is served, whether or not it is traced in the end (decision 0032). The network layer's own per-request object
 * extends this class, so recording costs a clock read and no allocation; 0 means "did not happen".
 *
 * <p>The produce path records the log's moments for the batch that was durable last, and the replication wait. Those
 * are written by the log's and the replication threads before the request completes and read on the event loop after
 * (the completion orders them); {@code synchronized} because a request's partitions finish on different threads.
 */
public class RequestTrace {
    /** The frame was read. */
    public long startNanos;
    /** Event-loop time spent decoding and handling it. */
    public long handleNanos;
    /** The response was ready, before waiting behind the earlier requests of its connection. */
    public long readyNanos;
    private TraceParent parent;
    private long handedToLogNanos;
    private long writeStartNanos;
    private long writeEndNanos;
    private long syncStartNanos;
    private long syncEndNanos;
    private long replicatedNanos;

    /** The caller's trace context, from the first record of the request (the first one found wins). */
    public synchronized void parent(TraceParent parent) {
        if (this.parent == null) {
            this.parent = parent;
        }
    }

    public synchronized TraceParent parent() {
        return parent;
    }

    /** A batch was handed to the log. */
    public synchronized void handedToLog(long nanos) {
        if (handedToLogNanos == 0) {
            handedToLogNanos = nanos;
        }
    }

    /** A batch of this request was durable after these moments; the last one to be durable is kept. */
    public synchronized void logged(long writeStart, long writeEnd, long syncStart, long syncEnd) {
        if (syncEnd > syncEndNanos) {
            writeStartNanos = writeStart;
            writeEndNanos = writeEnd;
            syncStartNanos = syncStart;
            syncEndNanos = syncEnd;
        }
    }

    /** The in-sync replicas had a batch of this request; the latest is kept. */
    public synchronized void replicated(long nanos) {
        replicatedNanos = Math.max(replicatedNanos, nanos);
    }

    synchronized long[] logMoments() {
        return new long[] {handedToLogNanos, writeStartNanos, writeEndNanos, syncStartNanos, syncEndNanos, replicatedNanos};
    }
}
