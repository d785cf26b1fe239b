package io.capstan.operator.version;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.operator.version.ClusterVersionPlan.Decision;
import io.capstan.operator.version.ClusterVersionPlan.Observed;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClusterVersionPlanTest {
    @Test
    void neverRaisesDuringARolloutNeverAboveWhatEveryBrokerSupportsOrAPinAndNeverLowers() {
        List<String> specs = new ArrayList<>(List.of("auto"));
        for (int pin = 1; pin <= 4; pin++) {
            specs.add(String.valueOf(pin));
        }
        for (String spec : specs) {
            for (int finalized = 1; finalized <= 4; finalized++) {
                for (int supported = 1; supported <= 4; supported++) {
                    for (boolean settled : new boolean[] {false, true}) {
                        Decision d = ClusterVersionPlan.decide(spec, new Observed(finalized, supported), settled);
                        String at = spec + ", finalized " + finalized + ", supported " + supported + ", settled " + settled;
                        int ceiling = spec.equals("auto") ? supported : Math.min(supported, Integer.parseInt(spec));
                        if (d.raiseTo() != 0) {
                            assertThat(settled).as(at).isTrue();
                            assertThat(d.raiseTo()).as(at).isGreaterThan(finalized).isEqualTo(ceiling);
                        } else {
                            assertThat(settled && ceiling > finalized).as(at + ": a raise that was due").isFalse();
                        }
                        if (!settled && ceiling > finalized) {
                            assertThat(d.message()).as(at).contains("once the rollout has completed");
                        }
                    }
                }
            }
        }
    }

    @Test
    void aPinTheClusterCannotReachOrHasPassedIsExplained() {
        assertThat(ClusterVersionPlan.decide("3", new Observed(1, 2), true))
                .isEqualTo(new Decision(2, "spec.clusterVersion is 3 but the brokers support up to 2; upgrade them (spec.version) first"));
        assertThat(ClusterVersionPlan.decide("1", new Observed(2, 2), true).message())
                .isEqualTo("spec.clusterVersion is 1 but the cluster is finalized at 2; a cluster version is never lowered");
        assertThat(ClusterVersionPlan.decide("auto", null, true)).as("no brokers registered yet").isEqualTo(new Decision(0, null));
        assertThat(ClusterVersionPlan.decide("auto", new Observed(2, 2), true)).isEqualTo(new Decision(0, null));
    }
}
