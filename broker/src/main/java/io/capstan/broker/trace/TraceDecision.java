package io.capstan.broker.trace;

/**
 * Whether a finished request is traced, and why (decision 0032): the caller sampled its trace, it was slower than
 * tracing.slow.request.ms, or a random draw fell under tracing.sampling.ratio. Decided after the response is
 * written, which is what lets every slow request be kept while a head-sampled share of the others is.
 */
public enum TraceDecision {
    DROPPED, PARENT_SAMPLED, SLOW, SAMPLED;

    /**
     * {@code draw} is uniform in [0, 1); a request exactly at the slow threshold counts as slow, and a ratio of 0 draws
     * nothing at random.
     */
    public static TraceDecision of(TraceParent parent, long durationNanos, long slowNanos, double draw, double ratio) {
        if (parent != null && parent.sampled()) {
            return PARENT_SAMPLED;
        }
        if (durationNanos >= slowNanos) {
            return SLOW;
        }
        return draw < ratio ? SAMPLED : DROPPED;
    }

    public boolean kept() {
        return this != DROPPED;
    }
}
