package io.capstan.broker.log;

/**
 * KIP-890 part 1 on the log side: a client's transactional batch that would open a transaction in a shard is written
 * only if the transaction coordinator confirmed the partition is in the producer's ongoing transaction, and no marker
 * ended a transaction of that producer here since the confirmation was asked for. Without it, a write delayed past its
 * transaction's abort opens a transaction nobody ends (a hanging transaction). A produce request reads the producer's
 * published {@link View} first: an open transaction needs no check ({@link #OPEN}), else its last marker offset is what
 * the committer compares against.
 */
public final class TxnVerification {
    /** The batch was sent without a check because a transaction was open: it must still be open when it is written. */
    public static final long OPEN = -2;

    private TxnVerification() {}

    /**
     * A producer's transaction in a shard: whether one is open and in which producer epoch, and the offset of its last
     * marker (or -1). Under transaction version 2 the next transaction has the next epoch, so an open one of an older
     * epoch is the previous transaction whose marker has not arrived yet, not the writer's.
     */
    public record View(boolean open, short epoch, long lastTxnEnd) {
        public static final View NONE = new View(false, (short) -1, ProducerEntry.NONE);

        /** Open in this epoch: the writer's own transaction, which a batch may join without asking the coordinator. */
        public boolean openIn(short producerEpoch) {
            return open && epoch == producerEpoch;
        }
    }

    static View view(ProducerEntry entry) {
        return entry == null ? null : new View(entry.txnFirstOffset() != ProducerEntry.NONE, entry.epoch(), entry.lastTxnEndOffset());
    }

    /** Whether the producer's view changes; compared field by field, as the committer asks it for every producer it writes. */
    static boolean changed(ProducerEntry before, ProducerEntry after) {
        if (before == null || after == null) {
            ProducerEntry other = before == null ? after : before;
            return other != null && (other.txnFirstOffset() != ProducerEntry.NONE || other.lastTxnEndOffset() != ProducerEntry.NONE);
        }
        return (before.txnFirstOffset() != ProducerEntry.NONE) != (after.txnFirstOffset() != ProducerEntry.NONE)
                || before.lastTxnEndOffset() != after.lastTxnEndOffset() || before.epoch() != after.epoch();
    }
}
