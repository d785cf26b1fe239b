package io.capstan.operator.rebalance;

import static io.capstan.operator.rebalance.RebalanceStep.next;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RebalanceStepTest {
    private static final long WINDOW = 30_000_000_000L;

    @Test
    void samplingCountsOnceWaitsForTheWindowThenProposes() {
        for (String phase : new String[] {null, RebalanceStep.SAMPLING}) {
            assertThat(next(phase, -1, WINDOW, null, null, false)).isEqualTo(RebalanceStep.FIRST_SAMPLE);
            assertThat(next(phase, 0, WINDOW, null, null, false)).isEqualTo(RebalanceStep.WAIT_FOR_WINDOW);
            assertThat(next(phase, WINDOW - 1, WINDOW, null, null, false)).isEqualTo(RebalanceStep.WAIT_FOR_WINDOW);
            assertThat(next(phase, WINDOW, WINDOW, null, null, false)).isEqualTo(RebalanceStep.PROPOSE);
            assertThat(next(phase, 3 * WINDOW, WINDOW, "abc", "abc", true)).as("approval and moves do not matter yet").isEqualTo(RebalanceStep.PROPOSE);
        }
    }

    @Test
    void aProposalRunsOnlyWhenTheSpecNamesItsId() {
        assertThat(next(RebalanceStep.PROPOSED, -1, WINDOW, null, "0123456789ab", false)).isEqualTo(RebalanceStep.WAIT_FOR_APPROVAL);
        assertThat(next(RebalanceStep.PROPOSED, -1, WINDOW, "", "0123456789ab", false)).isEqualTo(RebalanceStep.WAIT_FOR_APPROVAL);
        assertThat(next(RebalanceStep.PROPOSED, -1, WINDOW, "ffffffffffff", "0123456789ab", false)).isEqualTo(RebalanceStep.WAIT_FOR_APPROVAL);
        assertThat(next(RebalanceStep.PROPOSED, -1, WINDOW, "0123456789ab", "0123456789ab", false)).isEqualTo(RebalanceStep.EXECUTE);
        assertThat(next(RebalanceStep.PROPOSED, -1, WINDOW, null, null, false)).isEqualTo(RebalanceStep.WAIT_FOR_APPROVAL);
    }

    @Test
    void executingWaitsForEveryCopyThenFinishes() {
        assertThat(next(RebalanceStep.EXECUTING, -1, WINDOW, "x", "x", true)).isEqualTo(RebalanceStep.WAIT_FOR_MOVES);
        assertThat(next(RebalanceStep.EXECUTING, 5, WINDOW, "x", "x", false)).isEqualTo(RebalanceStep.FINISH);
    }

    @Test
    void settledPhasesDoNothingMore() {
        for (String phase : new String[] {RebalanceStep.BALANCED, RebalanceStep.DONE, RebalanceStep.FAILED}) {
            assertThat(next(phase, -1, WINDOW, "x", "x", true)).isEqualTo(RebalanceStep.NOTHING);
            assertThat(next(phase, WINDOW, WINDOW, null, null, false)).isEqualTo(RebalanceStep.NOTHING);
        }
    }
}
