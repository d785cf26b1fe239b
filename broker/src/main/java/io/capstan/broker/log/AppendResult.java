package io.capstan.broker.log;

import org.apache.kafka.common.protocol.Errors;

/**
 * Outcome of appending one batch: its base offset, or the error to answer with and why; and, for a batch written by a
 * group commit, when that round was written and synced (null otherwise).
 */
public record AppendResult(Errors error, long baseOffset, long logStartOffset, String message, CommitTimes times) {

    /**
     * The {@link System#nanoTime()} moments of the group commit round that made a batch durable: its write began and
     * ended, its fsync began and ended (the same moment for both when log.flush.policy=interval: nothing was synced).
     * One per round, shared by its batches.
     */
    public record CommitTimes(long writeStartNanos, long writeEndNanos, long syncStartNanos, long syncEndNanos) {}

    public AppendResult(Errors error, long baseOffset, long logStartOffset, String message) {
        this(error, baseOffset, logStartOffset, message, null);
    }

    public static AppendResult appended(long baseOffset, long logStartOffset) {
        return new AppendResult(Errors.NONE, baseOffset, logStartOffset, null);
    }

    static AppendResult appended(long baseOffset, long logStartOffset, CommitTimes times) {
        return new AppendResult(Errors.NONE, baseOffset, logStartOffset, null, times);
    }

    /**
     * A batch written earlier whose offsets are no longer remembered: DUPLICATE_SEQUENCE_NUMBER, which clients treat as
     * success. {@code baseOffset} carries the last offset written so far, which covers it: acks=all waits for that.
     */
    public static AppendResult alreadyWritten(long coveredUpTo, long logStartOffset, String message) {
        return new AppendResult(Errors.DUPLICATE_SEQUENCE_NUMBER, coveredUpTo, logStartOffset, message);
    }

    public boolean alreadyWritten() {
        return error == Errors.DUPLICATE_SEQUENCE_NUMBER;
    }

    public static AppendResult failed(Errors error, String message) {
        return new AppendResult(error, -1, -1, message);
    }
}
