package io.capstan.broker.txn;

import java.util.Collection;
import java.util.SortedSet;
import java.util.function.LongSupplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;

/**
 * The transaction coordinator's decisions, Kafka's (TransactionCoordinator, TransactionMetadata), as pure functions of
 * the current state and the request: exhaustively tested, no I/O. Transaction version 1 bumps the epoch by
 * InitProducerId and when a transaction is fenced or times out; version 2 (EndTxn v5+) also at every end.
 */
public final class TxnTransitions {
    /** The last epoch before a new producer id is needed (Kafka keeps Short.MAX_VALUE itself unused). */
    static final short MAX_EPOCH = Short.MAX_VALUE - 1;

    private TxnTransitions() {}

    /**
     * InitProducerId with a transactional id: a new id starts at epoch 0; a known one gets its epoch bumped (fencing
     * every older producer instance), a new producer id when the epoch is exhausted; an open transaction is aborted
     * first, with the bumped epoch, and the caller told to retry (CONCURRENT_TRANSACTIONS). {@code expectedProducerId}
     * and {@code expectedEpoch} (-1 when absent) are KIP-360's: a producer that knows its id may only re-initialise
     * the id and epoch the coordinator has (or the epoch just before, when the answer to its last attempt was lost).
     */
    public static TxnDecision initProducerId(TxnMetadata current, String transactionalId, int timeoutMs, int maxTimeoutMs,
                                             long expectedProducerId, short expectedEpoch, long nowMs, LongSupplier newProducerId) {
        if (timeoutMs <= 0 || timeoutMs > maxTimeoutMs) {
            return new TxnDecision.Refuse(Errors.INVALID_TRANSACTION_TIMEOUT, "transaction.timeout.ms=" + timeoutMs
                    + " must be positive and at most the broker's transaction.max.timeout.ms=" + maxTimeoutMs);
        }
        if (current == null || current.state() == TxnState.DEAD) {
            return new TxnDecision.Write(new TxnMetadata(transactionalId, newProducerId.getAsLong(), (short) 0, (short) -1, timeoutMs,
                    TxnState.EMPTY, TxnMetadata.none(), -1, nowMs), Errors.NONE);
        }
        if (expectedProducerId >= 0) {
            boolean sameId = expectedProducerId == current.producerId();
            if (sameId && expectedEpoch == current.lastProducerEpoch() && current.state() == TxnState.EMPTY) {
                return new TxnDecision.Unchanged(current); // the answer to its previous attempt was lost
            }
            if (!sameId || expectedEpoch != current.producerEpoch()) {
                return new TxnDecision.Refuse(Errors.PRODUCER_FENCED, "producer " + expectedProducerId + " epoch " + expectedEpoch
                        + " is not the current one of '" + transactionalId + "' (" + current.producerId() + " epoch " + current.producerEpoch()
                        + "): another instance took it over");
            }
        }
        if (current.state().preparing()) {
            return new TxnDecision.Refuse(Errors.CONCURRENT_TRANSACTIONS, "the last transaction of '" + transactionalId
                    + "' is being " + (current.state() == TxnState.PREPARE_COMMIT ? "committed" : "aborted") + "; retry");
        }
        if (current.state() == TxnState.ONGOING) {
            return new TxnDecision.Write(fenced(current, nowMs), Errors.CONCURRENT_TRANSACTIONS);
        }
        if (current.producerEpoch() >= MAX_EPOCH) {
            return new TxnDecision.Write(current.bumped(newProducerId.getAsLong(), (short) 0, timeoutMs, TxnState.EMPTY, nowMs), Errors.NONE);
        }
        return new TxnDecision.Write(current.bumped(current.producerId(), (short) (current.producerEpoch() + 1), timeoutMs,
                TxnState.EMPTY, nowMs), Errors.NONE);
    }

    /** An open transaction aborted under a bumped epoch, so its producer's late writes and requests are fenced. */
    static TxnMetadata fenced(TxnMetadata current, long nowMs) {
        return current.bumped(current.producerId(), (short) (current.producerEpoch() + 1), current.timeoutMs(), TxnState.PREPARE_ABORT, nowMs);
    }

    /** AddPartitionsToTxn and AddOffsetsToTxn: the transaction opens (or grows) with these partitions. */
    public static TxnDecision addPartitions(TxnMetadata current, String transactionalId, long producerId, short epoch,
                                            Collection<TopicPartition> partitions, long nowMs) {
        TxnDecision refused = checkProducer(current, transactionalId, producerId, epoch);
        if (refused != null) {
            return refused;
        }
        if (current.state().preparing()) {
            return new TxnDecision.Refuse(Errors.CONCURRENT_TRANSACTIONS, "the last transaction of '" + transactionalId
                    + "' is still being completed; retry");
        }
        boolean ongoing = current.state() == TxnState.ONGOING;
        if (ongoing && current.partitions().containsAll(partitions)) {
            return new TxnDecision.Unchanged(current);
        }
        SortedSet<TopicPartition> all = TxnMetadata.none();
        if (ongoing) {
            all.addAll(current.partitions());
        }
        all.addAll(partitions);
        return new TxnDecision.Write(current.with(TxnState.ONGOING, all, ongoing ? current.txnStartMs() : nowMs, nowMs), Errors.NONE);
    }

    /**
     * KIP-890 part 1: whether {@code partition} is in the producer's ongoing transaction, which its leader asks before
     * taking the first transactional batch of it there (INVALID_TXN_STATE: it is not, the write came late).
     */
    public static Errors verify(TxnMetadata current, String transactionalId, long producerId, short epoch, TopicPartition partition) {
        TxnDecision refused = checkProducer(current, transactionalId, producerId, epoch);
        if (refused != null) {
            return ((TxnDecision.Refuse) refused).error();
        }
        return current.state() == TxnState.ONGOING && current.partitions().contains(partition) ? Errors.NONE : Errors.INVALID_TXN_STATE;
    }

    /** EndTxn: an open transaction is prepared to commit or abort; a retry of a finished end is answered NONE. */
    public static TxnDecision endTxn(TxnMetadata current, String transactionalId, long producerId, short epoch, boolean commit, long nowMs) {
        TxnDecision refused = checkProducer(current, transactionalId, producerId, epoch);
        if (refused != null) {
            return refused;
        }
        String asked = commit ? "commit" : "abort";
        return switch (current.state()) {
            case ONGOING -> new TxnDecision.Write(current.with(commit ? TxnState.PREPARE_COMMIT : TxnState.PREPARE_ABORT,
                    current.partitions(), current.txnStartMs(), nowMs), Errors.NONE);
            case COMPLETE_COMMIT -> commit ? new TxnDecision.Unchanged(current) : invalid(transactionalId, asked, current);
            case COMPLETE_ABORT -> commit ? invalid(transactionalId, asked, current) : new TxnDecision.Unchanged(current);
            case PREPARE_COMMIT -> commit ? new TxnDecision.Refuse(Errors.CONCURRENT_TRANSACTIONS, "the commit of '" + transactionalId
                    + "' is being completed; retry") : invalid(transactionalId, asked, current);
            case PREPARE_ABORT -> commit ? invalid(transactionalId, asked, current) : new TxnDecision.Refuse(Errors.CONCURRENT_TRANSACTIONS,
                    "the abort of '" + transactionalId + "' is being completed; retry");
            case PREPARE_EPOCH_FENCE -> new TxnDecision.Refuse(Errors.PRODUCER_FENCED, "'" + transactionalId + "' was fenced");
            case EMPTY, DEAD -> invalid(transactionalId, asked, current);
        };
    }

    /**
     * EndTxn v5+ (transaction version 2, KIP-890 part 2): the transaction is prepared under the next epoch, so once it
     * ends nothing the producer sent under the old one (a write delayed in the network) can land in its next transaction;
     * the producer goes on with the epoch (or, when epochs run out, the new producer id) the answer carries. An abort
     * with nothing open still moves the epoch (a zombie's late writes are fenced). A retry of an end whose answer was
     * lost comes with the epoch before the bump and is answered with the one after it.
     */
    public static TxnDecision endTxnV2(TxnMetadata current, String transactionalId, long producerId, short epoch, boolean commit, long nowMs,
                                       LongSupplier newProducerId) {
        if (current == null || current.state() == TxnState.DEAD) {
            return new TxnDecision.Refuse(Errors.INVALID_PRODUCER_ID_MAPPING, "producer " + producerId + " is not the one of '"
                    + transactionalId + "'; call initTransactions() again");
        }
        String asked = commit ? "commit" : "abort";
        TxnState prepare = commit ? TxnState.PREPARE_COMMIT : TxnState.PREPARE_ABORT;
        TxnState complete = commit ? TxnState.COMPLETE_COMMIT : TxnState.COMPLETE_ABORT;
        if (producerId == current.producerId() && epoch == current.producerEpoch()) {
            return switch (current.state()) {
                case ONGOING -> new TxnDecision.Write(current.endedV2(prepare, rotation(current, newProducerId), nowMs), Errors.NONE);
                case EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT -> commit ? invalid(transactionalId, asked, current)
                        : new TxnDecision.Write(current.with(TxnState.ONGOING, TxnMetadata.none(), nowMs, nowMs)
                                .endedV2(TxnState.PREPARE_ABORT, rotation(current, newProducerId), nowMs), Errors.NONE);
                case PREPARE_COMMIT, PREPARE_ABORT -> new TxnDecision.Refuse(Errors.CONCURRENT_TRANSACTIONS, "the last transaction of '"
                        + transactionalId + "' is still being completed; retry");
                case PREPARE_EPOCH_FENCE, DEAD -> new TxnDecision.Refuse(Errors.PRODUCER_FENCED, "'" + transactionalId + "' was fenced");
            };
        }
        boolean retry = (producerId == current.producerId() || producerId == current.previousProducerId())
                && epoch == current.lastProducerEpoch() && epoch >= 0;
        if (retry && (current.state() == prepare || current.state() == complete)) {
            return current.state() == complete ? new TxnDecision.Unchanged(current)
                    : new TxnDecision.Refuse(Errors.CONCURRENT_TRANSACTIONS, "the " + asked + " of '" + transactionalId + "' is being completed; retry");
        }
        if (retry && (current.state() == TxnState.PREPARE_COMMIT || current.state() == TxnState.PREPARE_ABORT
                || current.state() == TxnState.COMPLETE_COMMIT || current.state() == TxnState.COMPLETE_ABORT)) {
            return invalid(transactionalId, asked, current);
        }
        TxnDecision refused = checkProducer(current, transactionalId, producerId, epoch);
        return refused != null ? refused : invalid(transactionalId, asked, current);
    }

    /** The producer id to move to when the next epoch is the last one, else -1. */
    private static long rotation(TxnMetadata current, LongSupplier newProducerId) {
        return current.producerEpoch() + 1 >= MAX_EPOCH ? newProducerId.getAsLong() : -1;
    }

    /** Every marker of a prepared transaction is written: it is complete, and its partitions forgotten. */
    public static TxnMetadata completed(TxnMetadata prepared, long nowMs) {
        TxnState done = switch (prepared.state()) {
            case PREPARE_COMMIT -> TxnState.COMPLETE_COMMIT;
            case PREPARE_ABORT, PREPARE_EPOCH_FENCE -> TxnState.COMPLETE_ABORT;
            default -> throw new IllegalArgumentException("only a prepared transaction completes, not one " + prepared.state());
        };
        TxnMetadata completed = prepared.with(done, TxnMetadata.none(), prepared.txnStartMs(), nowMs);
        return prepared.nextProducerId() >= 0 ? completed.rotated(nowMs) : completed;
    }

    /** An open transaction past its timeout is aborted under a bumped epoch (Kafka fences its producer the same way). */
    public static TxnMetadata timedOut(TxnMetadata current, long nowMs) {
        if (current.state() != TxnState.ONGOING || current.txnStartMs() + current.timeoutMs() > nowMs) {
            return null;
        }
        return fenced(current, nowMs);
    }

    private static TxnDecision checkProducer(TxnMetadata current, String transactionalId, long producerId, short epoch) {
        if (current == null || current.state() == TxnState.DEAD || current.producerId() != producerId) {
            return new TxnDecision.Refuse(Errors.INVALID_PRODUCER_ID_MAPPING, "producer " + producerId + " is not the one of '"
                    + transactionalId + "'; call initTransactions() again");
        }
        if (epoch != current.producerEpoch()) {
            return new TxnDecision.Refuse(Errors.PRODUCER_FENCED, "producer " + producerId + " epoch " + epoch + " of '" + transactionalId
                    + "' was fenced by epoch " + current.producerEpoch() + " (a newer instance called initTransactions(), or the "
                    + "transaction timed out)");
        }
        return null;
    }

    private static TxnDecision invalid(String transactionalId, String asked, TxnMetadata current) {
        return new TxnDecision.Refuse(Errors.INVALID_TXN_STATE, "cannot " + asked + " '" + transactionalId + "' in state "
                + current.state().kafkaName());
    }
}
