package io.capstan.operator.version;

/**
 * When the operator raises a cluster's version (spec.clusterVersion; decision 0028): only once a rollout has settled
 * (every broker on the current template and ready, no canary or rollback under way), since a raised version cannot be
 * rolled back; never above what every registered broker supports, nor above a pinned level; never down.
 */
public final class ClusterVersionPlan {
    public static final String AUTO = "auto";

    private ClusterVersionPlan() {}

    /** The finalized level and the newest level every registered broker supports, as the metadata store holds them. */
    public record Observed(int finalized, int supportedByAll) {}

    /** {@code raiseTo}: the level to finalize now, or 0; {@code message}: why a higher level waits, or null. */
    public record Decision(int raiseTo, String message) {
        static Decision nothing() {
            return new Decision(0, null);
        }
    }

    public static Decision decide(String spec, Observed observed, boolean settled) {
        if (observed == null) {
            return Decision.nothing();
        }
        String message = null;
        int target = observed.supportedByAll();
        if (spec != null && !AUTO.equals(spec)) {
            int pinned = Integer.parseInt(spec);
            if (pinned < observed.finalized()) {
                return new Decision(0, "spec.clusterVersion is " + pinned + " but the cluster is finalized at " + observed.finalized()
                        + "; a cluster version is never lowered");
            }
            if (pinned > observed.supportedByAll()) {
                message = "spec.clusterVersion is " + pinned + " but the brokers support up to " + observed.supportedByAll()
                        + "; upgrade them (spec.version) first";
            }
            target = Math.min(pinned, observed.supportedByAll());
        }
        if (target <= observed.finalized()) {
            return new Decision(0, message);
        }
        if (!settled) {
            return new Decision(0, "raising capstan.version from " + observed.finalized() + " to " + target
                    + " once the rollout has completed with every broker ready");
        }
        return new Decision(target, message);
    }
}
