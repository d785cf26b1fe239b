package io.capstan.broker.log;

import org.apache.kafka.common.protocol.Errors;

/**
 * The idempotent-producer decision for one incoming batch, given what the shard remembers of its producer.
 * Pure and total, so it is tested exhaustively; the rules follow Kafka's ProducerStateManager.
 */
public final class SequenceCheck {

    /**
     * DUPLICATE: one of the batches still cached, answered with its offset. OLD_DUPLICATE: a batch from before the
     * cached ones (the producer's later batches were accepted in order, so it is in the log), answered with
     * DUPLICATE_SEQUENCE_NUMBER, which clients take as success without an offset. This happens when a producer retries
     * a batch that was stuck at a stalled leader while newer ones went to its successor.
     */
    public enum Outcome { APPEND, DUPLICATE, OLD_DUPLICATE, FENCED, OUT_OF_ORDER }

    /** How far back a sequence may be and still count as already written (a quarter of the sequence space). */
    private static final long MAX_BEHIND = 1L << 29;

    /** The decision; {@code duplicateBaseOffset} is set only for DUPLICATE. */
    public record Result(Outcome outcome, long duplicateBaseOffset, String reason) {
        static final Result APPEND = new Result(Outcome.APPEND, -1, "");

        public Errors error() {
            return switch (outcome) {
                case APPEND, DUPLICATE -> Errors.NONE;
                case OLD_DUPLICATE -> Errors.DUPLICATE_SEQUENCE_NUMBER;
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
        if (known.size() == 0) {
            // known from a transaction marker only (whose epoch bump restarts sequences), or truncated back to nothing
            return firstSeq == 0 ? Result.APPEND
                    : new Result(Outcome.OUT_OF_ORDER, -1, "no batch of epoch " + epoch + " is known here, so it must start at sequence 0, got " + firstSeq);
        }
        long duplicate = known.duplicateOf(firstSeq, lastSeq);
        if (duplicate >= 0) {
            return new Result(Outcome.DUPLICATE, duplicate, "");
        }
        int expected = nextSequence(known.lastSequence());
        if (behind(expected, firstSeq) && behind(expected, lastSeq)) {
            return new Result(Outcome.OLD_DUPLICATE, -1, "sequences " + firstSeq + "-" + lastSeq + " were written before the "
                    + ProducerEntry.MAX_BATCHES + " batches this broker still remembers (next expected " + expected + ")");
        }
        if (firstSeq != expected) {
            return new Result(Outcome.OUT_OF_ORDER, -1, "expected sequence " + expected + ", got " + firstSeq + "-" + lastSeq
                    + " (known: " + known + ")");
        }
        return Result.APPEND;
    }

    /** True when {@code seq} comes before {@code expected}, within reach, in the wrapping sequence space. */
    static boolean behind(int expected, int seq) {
        long distance = Math.floorMod((long) expected - seq, (long) Integer.MAX_VALUE + 1);
        return distance > 0 && distance <= MAX_BEHIND;
    }

    static int nextSequence(int seq) {
        return seq == Integer.MAX_VALUE ? 0 : seq + 1;
    }
}
