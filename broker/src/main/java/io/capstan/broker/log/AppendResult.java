package io.capstan.broker.log;

import org.apache.kafka.common.protocol.Errors;

/** Outcome of appending one batch: its base offset, or the error to answer with and why. */
public record AppendResult(Errors error, long baseOffset, long logStartOffset, String message) {

    public static AppendResult appended(long baseOffset, long logStartOffset) {
        return new AppendResult(Errors.NONE, baseOffset, logStartOffset, null);
    }

    public static AppendResult failed(Errors error, String message) {
        return new AppendResult(error, -1, -1, message);
    }
}
