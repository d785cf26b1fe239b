package io.capstan.broker.txn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The coordinator's decisions for every state, Kafka's answers. */
class TxnTransitionsTest {
    private static final String ID = "app-1";
    private static final int MAX = 900_000;
    private static final TopicPartition A = new TopicPartition("a", 0);
    private static final TopicPartition B = new TopicPartition("b", 3);
    private final AtomicLong ids = new AtomicLong(100);

    private static TxnMetadata in(TxnState state, short epoch, TopicPartition... partitions) {
        SortedSet<TopicPartition> set = TxnMetadata.none();
        set.addAll(List.of(partitions));
        return new TxnMetadata(ID, 7, epoch, (short) (epoch - 1), 60_000, state, set, state == TxnState.ONGOING ? 1_000 : -1, 1_000);
    }

    private static TxnMetadata written(TxnDecision d) {
        assertThat(d).isInstanceOf(TxnDecision.Write.class);
        return ((TxnDecision.Write) d).next();
    }

    private static Errors refused(TxnDecision d) {
        assertThat(d).isInstanceOf(TxnDecision.Refuse.class);
        return ((TxnDecision.Refuse) d).error();
    }

    @Test
    void initProducerIdStartsANewIdAtEpochZeroAndBumpsAKnownOne() {
        TxnMetadata fresh = written(TxnTransitions.initProducerId(null, ID, 60_000, MAX, -1, (short) -1, 5, ids::incrementAndGet));
        assertThat(fresh.producerId()).isEqualTo(101);
        assertThat(fresh.producerEpoch()).isZero();
        assertThat(fresh.state()).isEqualTo(TxnState.EMPTY);

        for (TxnState done : List.of(TxnState.EMPTY, TxnState.COMPLETE_COMMIT, TxnState.COMPLETE_ABORT)) {
            TxnMetadata bumped = written(TxnTransitions.initProducerId(in(done, (short) 4), ID, 30_000, MAX, -1, (short) -1, 5, ids::incrementAndGet));
            assertThat(bumped.producerId()).isEqualTo(7);
            assertThat(bumped.producerEpoch()).isEqualTo((short) 5);
            assertThat(bumped.lastProducerEpoch()).isEqualTo((short) 4);
            assertThat(bumped.timeoutMs()).isEqualTo(30_000);
            assertThat(bumped.state()).isEqualTo(TxnState.EMPTY);
        }
        TxnMetadata exhausted = written(TxnTransitions.initProducerId(in(TxnState.EMPTY, TxnTransitions.MAX_EPOCH), ID, 60_000, MAX, -1,
                (short) -1, 5, ids::incrementAndGet));
        assertThat(exhausted.producerId()).as("a new producer id once the epoch is exhausted").isEqualTo(102);
        assertThat(exhausted.producerEpoch()).isZero();
    }

    @Test
    void initProducerIdAbortsAnOpenTransactionUnderABumpedEpochAndAsksForARetry() {
        TxnDecision d = TxnTransitions.initProducerId(in(TxnState.ONGOING, (short) 2, A, B), ID, 60_000, MAX, -1, (short) -1, 5, ids::incrementAndGet);
        TxnDecision.Write w = (TxnDecision.Write) d;
        assertThat(w.answer()).isEqualTo(Errors.CONCURRENT_TRANSACTIONS);
        assertThat(w.next().state()).isEqualTo(TxnState.PREPARE_ABORT);
        assertThat(w.next().producerEpoch()).as("the markers fence the old instance").isEqualTo((short) 3);
        assertThat(w.next().partitions()).containsExactly(A, B);
    }

    @ParameterizedTest
    @EnumSource(value = TxnState.class, names = {"PREPARE_COMMIT", "PREPARE_ABORT", "PREPARE_EPOCH_FENCE"})
    void whileMarkersAreWrittenEveryRequestWaits(TxnState preparing) {
        assertThat(refused(TxnTransitions.initProducerId(in(preparing, (short) 2, A), ID, 60_000, MAX, -1, (short) -1, 5, ids::incrementAndGet)))
                .isEqualTo(Errors.CONCURRENT_TRANSACTIONS);
        assertThat(refused(TxnTransitions.addPartitions(in(preparing, (short) 2, A), ID, 7, (short) 2, List.of(B), 5)))
                .isEqualTo(Errors.CONCURRENT_TRANSACTIONS);
    }

    @Test
    void kip360ARetryAfterALostAnswerIsRecognisedAndAStrangerIsFenced() {
        TxnMetadata bumped = in(TxnState.EMPTY, (short) 5);
        assertThat(TxnTransitions.initProducerId(bumped, ID, 60_000, MAX, 7, (short) 4, 5, ids::incrementAndGet))
                .as("the epoch it had before our bump: its answer was lost").isEqualTo(new TxnDecision.Unchanged(bumped));
        assertThat(written(TxnTransitions.initProducerId(bumped, ID, 60_000, MAX, 7, (short) 5, 5, ids::incrementAndGet)).producerEpoch())
                .isEqualTo((short) 6);
        assertThat(refused(TxnTransitions.initProducerId(bumped, ID, 60_000, MAX, 7, (short) 3, 5, ids::incrementAndGet))).isEqualTo(Errors.PRODUCER_FENCED);
        assertThat(refused(TxnTransitions.initProducerId(bumped, ID, 60_000, MAX, 8, (short) 5, 5, ids::incrementAndGet))).isEqualTo(Errors.PRODUCER_FENCED);
    }

    @Test
    void timeoutsOutsideTheBrokersBoundAreRefused() {
        assertThat(refused(TxnTransitions.initProducerId(null, ID, MAX + 1, MAX, -1, (short) -1, 5, ids::incrementAndGet))).isEqualTo(Errors.INVALID_TRANSACTION_TIMEOUT);
        assertThat(refused(TxnTransitions.initProducerId(null, ID, 0, MAX, -1, (short) -1, 5, ids::incrementAndGet))).isEqualTo(Errors.INVALID_TRANSACTION_TIMEOUT);
    }

    @Test
    void addPartitionsOpensAndGrowsATransactionOnlyForItsCurrentProducer() {
        TxnMetadata open = written(TxnTransitions.addPartitions(in(TxnState.COMPLETE_COMMIT, (short) 2), ID, 7, (short) 2, List.of(A), 50));
        assertThat(open.state()).isEqualTo(TxnState.ONGOING);
        assertThat(open.txnStartMs()).isEqualTo(50);
        TxnMetadata grown = written(TxnTransitions.addPartitions(open, ID, 7, (short) 2, List.of(B), 80));
        assertThat(grown.partitions()).containsExactly(A, B);
        assertThat(grown.txnStartMs()).as("the transaction began when it opened").isEqualTo(50);
        assertThat(TxnTransitions.addPartitions(grown, ID, 7, (short) 2, List.of(A), 90)).isEqualTo(new TxnDecision.Unchanged(grown));
        assertThat(refused(TxnTransitions.addPartitions(grown, ID, 7, (short) 1, List.of(A), 90))).isEqualTo(Errors.PRODUCER_FENCED);
        assertThat(refused(TxnTransitions.addPartitions(grown, ID, 8, (short) 2, List.of(A), 90))).isEqualTo(Errors.INVALID_PRODUCER_ID_MAPPING);
        assertThat(refused(TxnTransitions.addPartitions(null, ID, 7, (short) 2, List.of(A), 90))).isEqualTo(Errors.INVALID_PRODUCER_ID_MAPPING);
    }

    @Test
    void endTxnPreparesAnOpenTransactionAndAnswersRetriesOfAFinishedOne() {
        TxnMetadata open = in(TxnState.ONGOING, (short) 2, A);
        TxnMetadata commit = written(TxnTransitions.endTxn(open, ID, 7, (short) 2, true, 9));
        assertThat(commit.state()).isEqualTo(TxnState.PREPARE_COMMIT);
        assertThat(commit.partitions()).containsExactly(A);
        assertThat(written(TxnTransitions.endTxn(open, ID, 7, (short) 2, false, 9)).state()).isEqualTo(TxnState.PREPARE_ABORT);

        assertThat(TxnTransitions.endTxn(in(TxnState.COMPLETE_COMMIT, (short) 2), ID, 7, (short) 2, true, 9)).isInstanceOf(TxnDecision.Unchanged.class);
        assertThat(TxnTransitions.endTxn(in(TxnState.COMPLETE_ABORT, (short) 2), ID, 7, (short) 2, false, 9)).isInstanceOf(TxnDecision.Unchanged.class);
        assertThat(refused(TxnTransitions.endTxn(in(TxnState.COMPLETE_COMMIT, (short) 2), ID, 7, (short) 2, false, 9))).isEqualTo(Errors.INVALID_TXN_STATE);
        assertThat(refused(TxnTransitions.endTxn(in(TxnState.COMPLETE_ABORT, (short) 2), ID, 7, (short) 2, true, 9))).isEqualTo(Errors.INVALID_TXN_STATE);
        assertThat(refused(TxnTransitions.endTxn(in(TxnState.PREPARE_COMMIT, (short) 2, A), ID, 7, (short) 2, true, 9))).isEqualTo(Errors.CONCURRENT_TRANSACTIONS);
        assertThat(refused(TxnTransitions.endTxn(in(TxnState.PREPARE_COMMIT, (short) 2, A), ID, 7, (short) 2, false, 9))).isEqualTo(Errors.INVALID_TXN_STATE);
        assertThat(refused(TxnTransitions.endTxn(in(TxnState.PREPARE_ABORT, (short) 2, A), ID, 7, (short) 2, false, 9))).isEqualTo(Errors.CONCURRENT_TRANSACTIONS);
        assertThat(refused(TxnTransitions.endTxn(in(TxnState.EMPTY, (short) 2), ID, 7, (short) 2, true, 9))).isEqualTo(Errors.INVALID_TXN_STATE);
        assertThat(refused(TxnTransitions.endTxn(open, ID, 7, (short) 1, true, 9))).as("a fenced instance").isEqualTo(Errors.PRODUCER_FENCED);
    }

    @Test
    void completionAndTimeouts() {
        TxnMetadata committed = TxnTransitions.completed(in(TxnState.PREPARE_COMMIT, (short) 2, A, B), 20);
        assertThat(committed.state()).isEqualTo(TxnState.COMPLETE_COMMIT);
        assertThat(committed.partitions()).isEmpty();
        assertThat(TxnTransitions.completed(in(TxnState.PREPARE_ABORT, (short) 2, A), 20).state()).isEqualTo(TxnState.COMPLETE_ABORT);

        TxnMetadata open = in(TxnState.ONGOING, (short) 2, A); // began at 1,000 with a 60 s timeout
        assertThat(TxnTransitions.timedOut(open, 60_999)).isNull();
        TxnMetadata aborting = TxnTransitions.timedOut(open, 61_000);
        assertThat(aborting.state()).isEqualTo(TxnState.PREPARE_ABORT);
        assertThat(aborting.producerEpoch()).as("the stalled producer is fenced").isEqualTo((short) 3);
        assertThat(TxnTransitions.timedOut(in(TxnState.COMPLETE_COMMIT, (short) 2), 999_999)).isNull();
    }

    @Test
    void metadataSurvivesItsEncoding() {
        TxnMetadata m = in(TxnState.ONGOING, (short) 9, B, A);
        assertThat(TxnMetadata.decode(ID, java.nio.ByteBuffer.wrap(m.encodeValue()))).isEqualTo(m);
        assertThat(Set.copyOf(m.partitions())).containsExactlyInAnyOrder(A, B);
    }

    // ------------------------------------------------------------------ transaction version 2 (EndTxn v5+)

    @Test
    void aVersion2EndPreparesUnderTheNextEpochAndTheProducerGoesOnWithIt() {
        TxnMetadata ongoing = in(TxnState.ONGOING, (short) 4, A, B);
        TxnMetadata prepared = written(TxnTransitions.endTxnV2(ongoing, ID, 7, (short) 4, true, 2_000, ids::incrementAndGet));
        assertThat(prepared.state()).isEqualTo(TxnState.PREPARE_COMMIT);
        assertThat(prepared.producerEpoch()).as("markers carry the next epoch").isEqualTo((short) 5);
        assertThat(prepared.partitions()).containsExactly(A, B);
        assertThat(prepared.producerIdAfterEnd()).isEqualTo(7);
        assertThat(prepared.producerEpochAfterEnd()).isEqualTo((short) 5);
        TxnMetadata done = TxnTransitions.completed(prepared, 3_000);
        assertThat(done.state()).isEqualTo(TxnState.COMPLETE_COMMIT);
        assertThat(done.producerEpoch()).isEqualTo((short) 5);

        // the next transaction's writes come with epoch 5; anything still carrying 4 is fenced at the coordinator
        assertThat(refused(TxnTransitions.addPartitions(done, ID, 7, (short) 4, List.of(A), 3_500))).isEqualTo(Errors.PRODUCER_FENCED);
        assertThat(written(TxnTransitions.addPartitions(done, ID, 7, (short) 5, List.of(A), 3_500)).state()).isEqualTo(TxnState.ONGOING);
    }

    @Test
    void aRetriedVersion2EndIsAnsweredWithTheEpochItMovedTo() {
        TxnMetadata prepared = written(TxnTransitions.endTxnV2(in(TxnState.ONGOING, (short) 4, A), ID, 7, (short) 4, false, 2_000,
                ids::incrementAndGet));
        assertThat(refused(TxnTransitions.endTxnV2(prepared, ID, 7, (short) 4, false, 2_100, ids::incrementAndGet)))
                .as("still being completed").isEqualTo(Errors.CONCURRENT_TRANSACTIONS);
        TxnMetadata done = TxnTransitions.completed(prepared, 2_200);
        TxnDecision retry = TxnTransitions.endTxnV2(done, ID, 7, (short) 4, false, 2_300, ids::incrementAndGet);
        assertThat(retry).isInstanceOf(TxnDecision.Unchanged.class);
        assertThat(((TxnDecision.Unchanged) retry).current().producerEpochAfterEnd()).isEqualTo((short) 5);
        assertThat(refused(TxnTransitions.endTxnV2(done, ID, 7, (short) 4, true, 2_300, ids::incrementAndGet)))
                .as("the opposite end").isEqualTo(Errors.INVALID_TXN_STATE);
        assertThat(refused(TxnTransitions.endTxnV2(done, ID, 7, (short) 3, false, 2_300, ids::incrementAndGet)))
                .isEqualTo(Errors.PRODUCER_FENCED);
        assertThat(refused(TxnTransitions.endTxnV2(done, ID, 8, (short) 5, false, 2_300, ids::incrementAndGet)))
                .isEqualTo(Errors.INVALID_PRODUCER_ID_MAPPING);
    }

    @Test
    void aVersion2AbortWithNothingOpenStillMovesTheEpochAndACommitIsRefused() {
        TxnMetadata complete = in(TxnState.COMPLETE_COMMIT, (short) 6);
        TxnMetadata aborting = written(TxnTransitions.endTxnV2(complete, ID, 7, (short) 6, false, 2_000, ids::incrementAndGet));
        assertThat(aborting.state()).isEqualTo(TxnState.PREPARE_ABORT);
        assertThat(aborting.partitions()).isEmpty();
        assertThat(aborting.producerEpoch()).isEqualTo((short) 7);
        assertThat(refused(TxnTransitions.endTxnV2(complete, ID, 7, (short) 6, true, 2_000, ids::incrementAndGet)))
                .isEqualTo(Errors.INVALID_TXN_STATE);
        assertThat(refused(TxnTransitions.endTxnV2(in(TxnState.PREPARE_EPOCH_FENCE, (short) 6, A), ID, 7, (short) 6, false, 2_000,
                ids::incrementAndGet))).isEqualTo(Errors.PRODUCER_FENCED);
        assertThat(refused(TxnTransitions.endTxnV2(null, ID, 7, (short) 6, false, 2_000, ids::incrementAndGet)))
                .isEqualTo(Errors.INVALID_PRODUCER_ID_MAPPING);
    }

    @Test
    void whenEpochsRunOutAVersion2EndMovesTheProducerToANewIdAndRecognisesItsRetry() {
        short last = (short) (TxnTransitions.MAX_EPOCH - 1);
        TxnMetadata prepared = written(TxnTransitions.endTxnV2(in(TxnState.ONGOING, last, A), ID, 7, last, true, 2_000, ids::incrementAndGet));
        assertThat(prepared.producerEpoch()).as("markers still under the old id").isEqualTo(TxnTransitions.MAX_EPOCH);
        assertThat(prepared.producerIdAfterEnd()).isEqualTo(101);
        assertThat(prepared.producerEpochAfterEnd()).isZero();
        TxnMetadata done = TxnTransitions.completed(prepared, 3_000);
        assertThat(done.producerId()).isEqualTo(101);
        assertThat(done.producerEpoch()).isZero();
        assertThat(done.previousProducerId()).isEqualTo(7);
        TxnDecision retry = TxnTransitions.endTxnV2(done, ID, 7, last, true, 3_100, ids::incrementAndGet);
        assertThat(retry).isInstanceOf(TxnDecision.Unchanged.class);
        assertThat(((TxnDecision.Unchanged) retry).current().producerIdAfterEnd()).isEqualTo(101);
        assertThat(written(TxnTransitions.addPartitions(done, ID, 101, (short) 0, List.of(B), 3_200)).state()).isEqualTo(TxnState.ONGOING);
        // and the rotation survives the transaction log: version 2 records keep both ids
        TxnMetadata back = TxnMetadata.decode(ID, java.nio.ByteBuffer.wrap(done.encodeValue()));
        assertThat(back).isEqualTo(done);
    }
}
