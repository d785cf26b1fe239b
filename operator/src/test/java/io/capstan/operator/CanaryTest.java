package io.capstan.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.rollout.Canary;
import io.capstan.operator.rollout.Canary.Phase;
import io.capstan.operator.rollout.Canary.Position;
import java.util.List;
import org.junit.jupiter.api.Test;

class CanaryTest {
    static BrokerClusterSpec.Step replicas(int n) {
        BrokerClusterSpec.Step s = new BrokerClusterSpec.Step();
        s.replicas = n;
        return s;
    }

    static BrokerClusterSpec.Step pause(String duration) {
        BrokerClusterSpec.Step s = new BrokerClusterSpec.Step();
        s.pause = new BrokerClusterSpec.Pause();
        s.pause.duration = duration;
        return s;
    }

    // the example of the issue: 1 broker, 10 minutes, 2 brokers, wait for approval
    static final List<BrokerClusterSpec.Step> STEPS = List.of(replicas(1), pause("10m"), replicas(2), pause(null));
    static final BrokerClusterSpec.Analysis ANALYSIS = new BrokerClusterSpec.Analysis();

    @Test
    void walksTheStepsWithTimedAndApprovedPauses() {
        long t = 1_000_000;
        Canary.Verdict v = Canary.decide(STEPS, ANALYSIS, Position.START, 3, 0, true, null, "0.2.0", 0, t);
        assertThat(v.limit()).isEqualTo(1);
        assertThat(v.phase()).isEqualTo(Phase.CANARY);

        v = Canary.decide(STEPS, ANALYSIS, v.next(), 3, 1, true, null, "0.2.0", 0, t);
        assertThat(v.phase()).isEqualTo(Phase.PAUSED);
        assertThat(v.limit()).as("a pause holds the updated count").isEqualTo(1);
        assertThat(v.message()).isEqualTo("step 2: pausing 10m (600 s left)");

        v = Canary.decide(STEPS, ANALYSIS, v.next(), 3, 1, true, null, "0.2.0", 0, t + 599_000);
        assertThat(v.phase()).isEqualTo(Phase.PAUSED);
        v = Canary.decide(STEPS, ANALYSIS, v.next(), 3, 1, true, null, "0.2.0", 0, t + 600_000);
        assertThat(v.phase()).isEqualTo(Phase.CANARY);
        assertThat(v.limit()).isEqualTo(2);

        v = Canary.decide(STEPS, ANALYSIS, v.next(), 3, 2, true, null, "0.2.0", 0, t + 700_000);
        assertThat(v.phase()).isEqualTo(Phase.PAUSED);
        assertThat(v.message()).isEqualTo("step 4: paused until spec.rollout.approve is set to 4 or 0.2.0");

        Canary.Verdict approved = Canary.decide(STEPS, ANALYSIS, v.next(), 3, 2, true, "4", "0.2.0", 0, t + 800_000);
        assertThat(approved.phase()).isEqualTo(Phase.PROMOTING);
        assertThat(approved.limit()).isEqualTo(Integer.MAX_VALUE);
        assertThat(Canary.decide(STEPS, ANALYSIS, v.next(), 3, 2, true, "0.2.0", "0.2.0", 0, t).phase())
                .as("the version approves too").isEqualTo(Phase.PROMOTING);
    }

    @Test
    void aStepDoesNotAdvanceWhileABrokerIsNotReady() {
        Canary.Verdict v = Canary.decide(STEPS, ANALYSIS, Position.START, 3, 1, false, null, "0.2.0", 0, 0);
        assertThat(v.next().step()).isZero();
        assertThat(v.limit()).isEqualTo(1);
    }

    @Test
    void underReplicationBeyondTheThresholdRollsBack() {
        Position at = Position.START;
        Canary.Verdict v = null;
        for (int check = 1; check <= 3; check++) {
            v = Canary.decide(STEPS, ANALYSIS, at, 3, 1, true, null, "0.2.0", 2, check * 10_000L);
            at = v.next();
        }
        assertThat(v.phase()).isEqualTo(Phase.ROLLED_BACK);
        assertThat(v.message()).startsWith("2 shard(s) under-replicated for 3 checks in a row");
        Canary.Verdict healthy = Canary.decide(STEPS, ANALYSIS, new Position(0, -1, 2, -1), 3, 1, true, null, "0.2.0", 0, 0);
        assertThat(healthy.next().analysisFailures()).as("a healthy check resets the count").isZero();
    }

    @Test
    void analysisChecksOncePerIntervalHoweverOftenItIsAsked() {
        Position at = Position.START;
        for (long now = 0; now < 20_000; now += 500) {   // a reconcile every half second, unhealthy throughout
            Canary.Verdict v = Canary.decide(STEPS, ANALYSIS, at, 3, 1, true, null, "0.2.0", 2, now);
            assertThat(v.phase()).as("at %d ms", now).isNotEqualTo(Phase.ROLLED_BACK);
            at = v.next();
        }
        assertThat(at.analysisFailures()).as("checks at 0 and 10 s only").isEqualTo(2);
        assertThat(Canary.decide(STEPS, ANALYSIS, at, 3, 1, true, null, "0.2.0", 2, 20_000).phase()).isEqualTo(Phase.ROLLED_BACK);
    }

    @Test
    void noStepsMeansAPlainRollingUpdate() {
        assertThat(Canary.decide(List.of(), null, Position.START, 3, 0, true, null, "0.2.0", 0, 0).limit()).isEqualTo(Integer.MAX_VALUE);
    }
}
