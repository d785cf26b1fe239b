package io.capstan.broker.txn;

import org.apache.kafka.common.protocol.Errors;

/** What the coordinator does with one request: refuse it, answer from the current state, or write a new one and then answer. */
public sealed interface TxnDecision {

    /** Answered with {@code error} at once; nothing changes. */
    record Refuse(Errors error, String reason) implements TxnDecision {}

    /** Answered NONE from {@code current} (a retry of what is already done); nothing is written. */
    record Unchanged(TxnMetadata current) implements TxnDecision {}

    /**
     * {@code next} is written to the transaction log; once replicated it takes effect and the request is answered with
     * {@code answer} (CONCURRENT_TRANSACTIONS when a fenced transaction is being aborted first). A PREPARE state then
     * has its markers written.
     */
    record Write(TxnMetadata next, Errors answer) implements TxnDecision {}
}
