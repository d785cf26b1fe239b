package io.capstan.broker.log;

import org.apache.kafka.common.protocol.Errors;

/** Outcome of appending one batch: its base offset, or the error to answer with and why. */
public record AppendResult(Errors error, long baseOffset, long logStartOffset, String message) {

    public static AppendResult appended(long baseOffset, long logStartOffset) {
        return new AppendResult(Errors.NONE, baseOffset, logStartOffset, null);
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
