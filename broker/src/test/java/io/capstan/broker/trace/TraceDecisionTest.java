package io.capstan.broker.trace;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TraceDecisionTest {
    private static final TraceParent SAMPLED = new TraceParent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", true);
    private static final TraceParent NOT_SAMPLED = new TraceParent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", false);
    private static final long SLOW = 1_000_000_000L;

    @Test
    void aCallerThatSampledItsTraceIsAlwaysFollowed() {
        assertThat(TraceDecision.of(SAMPLED, 1, SLOW, 0.99, 0)).isEqualTo(TraceDecision.PARENT_SAMPLED);
        assertThat(TraceDecision.of(SAMPLED, SLOW * 2, SLOW, 0.99, 0)).isEqualTo(TraceDecision.PARENT_SAMPLED);
    }

    @Test
    void aSlowRequestIsAlwaysTracedFromTheThresholdOn() {
        assertThat(TraceDecision.of(null, SLOW, SLOW, 0.99, 0)).isEqualTo(TraceDecision.SLOW);
        assertThat(TraceDecision.of(NOT_SAMPLED, SLOW + 1, SLOW, 0.99, 0)).isEqualTo(TraceDecision.SLOW);
        assertThat(TraceDecision.of(null, SLOW - 1, SLOW, 0.99, 0)).isEqualTo(TraceDecision.DROPPED);
    }

    @Test
    void otherRequestsAreTracedWhenTheDrawFallsUnderTheRatio() {
        assertThat(TraceDecision.of(null, 1, SLOW, 0.004, 0.01)).isEqualTo(TraceDecision.SAMPLED);
        assertThat(TraceDecision.of(NOT_SAMPLED, 1, SLOW, 0.004, 0.01)).isEqualTo(TraceDecision.SAMPLED);
        assertThat(TraceDecision.of(null, 1, SLOW, 0.01, 0.01)).isEqualTo(TraceDecision.DROPPED);
        assertThat(TraceDecision.of(null, 1, SLOW, 0.0, 0)).as("ratio 0 draws nothing").isEqualTo(TraceDecision.DROPPED);
        assertThat(TraceDecision.of(null, 1, SLOW, 0.999999, 1)).as("ratio 1 draws everything").isEqualTo(TraceDecision.SAMPLED);
    }

    @Test
    void onlyDroppedIsNotKept() {
        for (TraceDecision d : TraceDecision.values()) {
            assertThat(d.kept()).isEqualTo(d != TraceDecision.DROPPED);
        }
    }
}
