package io.capstan.broker.log;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The stable-offset decision and the producer-entry changes it follows, case by case. */
class TxnSpansTest {

    @Test
    void theStableOffsetStopsAtTheFirstTransactionNotDecidedBelowTheHighWatermark() {
        long open = Long.MAX_VALUE;
        assertThat(TxnSpans.lastStableOffset(new long[0], 10)).isEqualTo(10);
        assertThat(TxnSpans.lastStableOffset(new long[] {4, open}, 10)).as("open from 4").isEqualTo(4);
        assertThat(TxnSpans.lastStableOffset(new long[] {4, open}, 4)).as("opened at the high watermark: not visible yet").isEqualTo(4);
        assertThat(TxnSpans.lastStableOffset(new long[] {4, open}, 3)).isEqualTo(3);
        assertThat(TxnSpans.lastStableOffset(new long[] {2, 8, 5, open}, 10)).as("ended at 8, replicated; 5 open").isEqualTo(5);
        assertThat(TxnSpans.lastStableOffset(new long[] {2, 8, 5, open}, 8)).as("the marker at 8 not replicated").isEqualTo(2);
        assertThat(TxnSpans.lastStableOffset(new long[] {2, 8}, 9)).isEqualTo(9);
    }

    @Test
    void spansFollowOpeningEndingAndTruncation() {
        TxnSpans spans = new TxnSpans();
        ProducerEntry first = ProducerEntry.first((short) 0, 0, 0, 3, 0, 1).inTransaction(3);
        assertThat(spans.update(null, first)).isTrue();
        assertThat(spans.snapshot()).containsExactly(3, Long.MAX_VALUE);
        ProducerEntry more = first.append((short) 0, 1, 1, 5, 0, 2);
        assertThat(spans.update(first, more)).as("a second batch of the same transaction changes nothing").isFalse();

        ProducerEntry ended = more.ended((short) 1, 9, 0, 3);
        assertThat(ended.size()).as("a bumped epoch restarts sequences").isZero();
        assertThat(spans.update(more, ended)).isTrue();
        assertThat(spans.snapshot()).containsExactly(3, 9);
        assertThat(spans.firstOpenExcept(-1, 100)).isEqualTo(100);

        // cut at 9: the marker goes, the transaction is open again
        ProducerEntry cut = ended.truncatedTo(9);
        assertThat(cut.txnFirstOffset()).isEqualTo(3);
        spans.truncate(9);
        assertThat(spans.update(ended, cut)).isTrue();
        assertThat(spans.snapshot()).containsExactly(3, Long.MAX_VALUE);

        // cut at 3: nothing of it is left
        assertThat(cut.truncatedTo(3)).isNull();
        spans.truncate(3);
        assertThat(spans.snapshot()).isEmpty();

        spans.update(null, first);
        spans.update(first, ended);
        spans.prune(9);
        assertThat(spans.snapshot()).as("the marker at 9 is not below a high watermark of 9").containsExactly(3, 9);
        spans.prune(10);
        assertThat(spans.isEmpty()).isTrue();
    }

    @Test
    void entriesKeepTheirTransactionsAcrossEncodingAndReadOldEncodings() {
        ProducerEntry e = ProducerEntry.first((short) 2, 0, 4, 10, 4, 7).inTransaction(10).ended((short) 2, 15, 3, 8).inTransaction(20);
        assertThat(ProducerEntry.decode(e.encode())).isEqualTo(e);
        assertThat(e.txnFirstOffset()).isEqualTo(20);
        assertThat(e.coordinatorEpoch()).isEqualTo(3);
        assertThat(e.lastSequence()).as("the same epoch keeps its sequences").isEqualTo(4);

        byte[] withTxn = ProducerEntry.first((short) 1, 0, 0, 5, 0, 9).encode();
        byte[] before = java.util.Arrays.copyOf(withTxn, withTxn.length - 28);
        ProducerEntry old = ProducerEntry.decode(before);
        assertThat(old.txnFirstOffset()).as("an entry written before transactions").isEqualTo(ProducerEntry.NONE);
        assertThat(old.lastSequence()).isZero();
    }
}
