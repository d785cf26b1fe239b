package io.capstan.broker.txn;

/**
 * A transactional id's state at its coordinator, Kafka's (TransactionState): the names are what DescribeTransactions and
 * ListTransactions report, so {@code kafka-transactions} shows the same words as against Kafka.
 */
public enum TxnState {
    EMPTY("Empty"),
    ONGOING("Ongoing"),
    PREPARE_COMMIT("PrepareCommit"),
    PREPARE_ABORT("PrepareAbort"),
    COMPLETE_COMMIT("CompleteCommit"),
    COMPLETE_ABORT("CompleteAbort"),
    PREPARE_EPOCH_FENCE("PrepareEpochFence"),
    DEAD("Dead");

    private final String kafkaName;

    TxnState(String kafkaName) {
        this.kafkaName = kafkaName;
    }

    public String kafkaName() {
        return kafkaName;
    }

    /** Decided, markers being written: the transactional id takes no new request but a retry of the same end. */
    public boolean preparing() {
        return this == PREPARE_COMMIT || this == PREPARE_ABORT || this == PREPARE_EPOCH_FENCE;
    }

    public static TxnState fromKafkaName(String name) {
        for (TxnState s : values()) {
            if (s.kafkaName.equalsIgnoreCase(name)) {
                return s;
            }
        }
        return null;
    }
}
