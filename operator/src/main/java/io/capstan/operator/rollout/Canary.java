package io.capstan.operator.rollout;

import io.capstan.operator.api.BrokerClusterSpec;
import java.time.Duration;
import java.util.List;

/**
 * The canary steps of a rollout, as a pure state machine: given the step reached, how many brokers run the new
 * template and what the user approved, it says how many brokers may be on the new template now and whether to move to
 * the next step. A step {replicas: N} lets N brokers update and moves on once they run it; a step {pause: {duration}}
 * holds for that long; a step {pause: {}} holds until spec.rollout.approve names the step (its number) or the version.
 * After the last step every broker updates. Analysis failures beyond the threshold roll back.
 */
public final class Canary {
    private Canary() {}

    /**
     * Where the rollout stands: the step index, when its pause began (epoch ms, -1 when not pausing), failed analysis
     * checks in a row, and when the last check ran (-1: none yet).
     */
    public record Position(int step, long pauseStartedMs, int analysisFailures, long lastCheckMs) {
        public static final Position START = new Position(0, -1, 0, -1);

        Position at(int nextStep, long pauseStarted) {
            return new Position(nextStep, pauseStarted, analysisFailures, lastCheckMs);
        }
    }

    public enum Phase { CANARY, PAUSED, PROMOTING, ROLLED_BACK }

    /** How many brokers may run the new template now, where the rollout goes next, and a message for the status. */
    public record Verdict(int limit, Position next, Phase phase, String message) {}

    public static Verdict decide(List<BrokerClusterSpec.Step> steps, BrokerClusterSpec.Analysis analysis, Position at,
                                 int replicas, int updated, boolean allReady, String approve, String version,
                                 int underReplicatedShards, long nowMs) {
        int failures = at.analysisFailures();
        long lastCheck = at.lastCheckMs();
        // one check per interval, however often the reconciler runs (pod events make it run often)
        if (analysis != null && at.step() < steps.size() && (lastCheck < 0 || nowMs - lastCheck >= interval(analysis).toMillis())) {
            lastCheck = nowMs;
            int allowed = analysis.maxUnderReplicatedShards == null ? 0 : analysis.maxUnderReplicatedShards;
            failures = underReplicatedShards > allowed ? failures + 1 : 0;
            int threshold = analysis.failureThreshold == null ? 3 : analysis.failureThreshold;
            if (failures >= threshold) {
                return new Verdict(0, new Position(at.step(), -1, failures, lastCheck), Phase.ROLLED_BACK, underReplicatedShards
                        + " shard(s) under-replicated for " + failures + " checks in a row (allowed: " + allowed
                        + "); rolled back to the last stable spec");
            }
        }
        Position now = new Position(at.step(), at.pauseStartedMs(), failures, lastCheck);
        for (int guard = 0; guard <= steps.size(); guard++) {
            if (now.step() >= steps.size()) {
                return new Verdict(Integer.MAX_VALUE, now, Phase.PROMOTING, "all canary steps passed; updating every broker");
            }
            BrokerClusterSpec.Step step = steps.get(now.step());
            int stepNumber = now.step() + 1;
            if (step.replicas != null) {
                int target = Math.min(step.replicas, replicas);
                if (updated >= target && allReady) {
                    now = now.at(now.step() + 1, -1);
                    continue;
                }
                return new Verdict(target, now, Phase.CANARY, "step " + stepNumber + ": updating " + target + " broker(s) ("
                        + updated + " done)");
            }
            String duration = step.pause == null ? null : step.pause.duration;
            if (duration == null || duration.isBlank()) {
                if (approve != null && (approve.equals(String.valueOf(stepNumber)) || approve.equals(version))) {
                    now = now.at(now.step() + 1, -1);
                    continue;
                }
                return new Verdict(updated, now, Phase.PAUSED, "step " + stepNumber + ": paused until spec.rollout.approve is set to "
                        + stepNumber + " or " + version);
            }
            long started = now.pauseStartedMs() < 0 ? nowMs : now.pauseStartedMs();
            long waitMs = parse(duration).toMillis();
            if (nowMs - started >= waitMs) {
                now = now.at(now.step() + 1, -1);
                continue;
            }
            return new Verdict(updated, now.at(now.step(), started), Phase.PAUSED, "step " + stepNumber
                    + ": pausing " + duration + " (" + Duration.ofMillis(waitMs - (nowMs - started)).toSeconds() + " s left)");
        }
        return new Verdict(Integer.MAX_VALUE, now, Phase.PROMOTING, "all canary steps passed; updating every broker");
    }

    static Duration interval(BrokerClusterSpec.Analysis analysis) {
        return analysis.interval == null || analysis.interval.isBlank() ? Duration.ofSeconds(10) : parse(analysis.interval);
    }

    static Duration parse(String text) {
        return io.capstan.operator.spec.Durations.parse(text);
    }
}
