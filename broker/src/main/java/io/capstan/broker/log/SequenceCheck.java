package io.capstan.broker.log;

import org.apache.kafka.common.protocol.Errors;

/**
 * The idempotent-producer decision for one incoming batch, given what the shard remembers of its producer.
 * Pure and total, so it is tested exhaustively; the rules follow Kafka's ProducerStateManager.
 */
public final class SequenceCheck {

    public enum Outcome { APPEND, DUPLICATE, FENCED, OUT_OF_ORDER }

    /** The decision; {@code duplicateBaseOffset} is set only for DUPLICATE. */
    public record Result(Outcome outcome, long duplicateBaseOffset, String reason) {
        static final Result APPEND = new Result(Outcome.APPEND, -1, "");

        public Errors error() {
            return switch (outcome) {
                case APPEND, DUPLICATE -> Errors.NONE;
                case FENCED -> Errors.INVALID_PRODUCER_EPOCH;
                case OUT_OF_ORDER -> Errors.OUT_OF_ORDER_SEQUENCE_NUMBER;
            };
        }
    }

    private SequenceCheck() {}

    public static Result check(ProducerEntry known, short epoch, int firstSeq, int lastSeq) {
        if (known == null) {
            return firstSeq == 0 ? Result.APPEND
                    : new Result(Outcome.OUT_OF_ORDER, -1, "first batch of an unknown producer must start at sequence 0, got " + firstSeq);
        }
        if (epoch < known.epoch()) {
            return new Result(Outcome.FENCED, -1, "producer epoch " + epoch + " is older than " + known.epoch());
        }
        if (epoch > known.epoch()) {
            return firstSeq == 0 ? Result.APPEND
                    : new Result(Outcome.OUT_OF_ORDER, -1, "a new epoch must start at sequence 0, got " + firstSeq);
        }
        long duplicate = known.duplicateOf(firstSeq, lastSeq);
        if (duplicate >= 0) {
            return new Result(Outcome.DUPLICATE, duplicate, "");
        }
        int expected = nextSequence(known.lastSequence());
        if (firstSeq != expected) {
            return new Result(Outcome.OUT_OF_ORDER, -1, "expected sequence " + expected + ", got " + firstSeq);
        }
        return Result.APPEND;
    }

    static int nextSequence(int seq) {
        return seq == Integer.MAX_VALUE ? 0 : seq + 1;
    }
}
