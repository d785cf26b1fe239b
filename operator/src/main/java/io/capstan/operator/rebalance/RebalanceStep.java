package io.capstan.operator.rebalance;

/**
 * What a CapstanRebalance does next, from its phase and what was observed: the whole life cycle as one pure
 * decision. Sampling takes a first count of every shard's traffic, then after the sample window a second one, and
 * proposes; a proposal waits until spec.approvedProposal names it; executing waits for the reassignments to finish,
 * then hands leadership to each shard's first replica and removes the throttle.
 */
public enum RebalanceStep {
    /** Count every shard's traffic now and look again after the window. */
    FIRST_SAMPLE,
    /** The window is not over yet: look again when it is. */
    WAIT_FOR_WINDOW,
    /** Count again and propose from the two counts. */
    PROPOSE,
    /** The proposal waits for spec.approvedProposal to name it. */
    WAIT_FOR_APPROVAL,
    /** Approved: throttle, then submit the reassignments. */
    EXECUTE,
    /** Replicas are still being copied. */
    WAIT_FOR_MOVES,
    /** Every copy is done: elect the preferred leaders and remove the throttle. */
    FINISH,
    /** Balanced, Done or Failed: nothing more (a new CapstanRebalance measures and proposes again). */
    NOTHING;

    public static final String SAMPLING = "Sampling";
    public static final String PROPOSED = "Proposed";
    public static final String BALANCED = "Balanced";
    public static final String EXECUTING = "Executing";
    public static final String DONE = "Done";
    public static final String FAILED = "Failed";

    /**
     * {@code sampleAgeNanos}: how long ago this operator took the first count for this rebalance, or -1 when it has
     * none (not taken yet, or the operator restarted since). {@code movesRunning}: whether any of the proposal's
     * reassignments is still in progress (only asked when executing).
     */
    public static RebalanceStep next(String phase, long sampleAgeNanos, long windowNanos, String approved, String proposalId,
                                     boolean movesRunning) {
        if (phase == null || phase.equals(SAMPLING)) {
            if (sampleAgeNanos < 0) {
                return FIRST_SAMPLE;
            }
            return sampleAgeNanos >= windowNanos ? PROPOSE : WAIT_FOR_WINDOW;
        }
        return switch (phase) {
            case PROPOSED -> proposalId != null && proposalId.equals(approved) ? EXECUTE : WAIT_FOR_APPROVAL;
            case EXECUTING -> movesRunning ? WAIT_FOR_MOVES : FINISH;
            default -> NOTHING;
        };
    }
}
