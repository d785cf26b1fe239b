package io.capstan.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.EvaluationResult;
import org.junit.jupiter.api.Test;

/**
 * The rules themselves, on small fixture codebases: one that keeps every arrow (no violation) and one with an arrow
 * each way wrong (each reported, naming the classes). A rule that cannot fail would pass here too: these fail.
 */
class ArchitectureRulesTest {
    private static final String GOOD = "io.capstan.architecture.fixture.good";
    private static final String BAD = "io.capstan.architecture.fixture.bad";

    private static JavaClasses classes(String root) {
        return new ClassFileImporter().importPackages(root);
    }

    @Test
    void aCodebaseThatKeepsTheArrowsPasses() {
        JavaClasses good = classes(GOOD);
        assertThat(Architecture.modules(GOOD).evaluate(good).hasViolation()).isFalse();
        assertThat(Architecture.brokerPackages(GOOD).evaluate(good).hasViolation()).isFalse();
        assertThat(Architecture.noCycles(GOOD).evaluate(good).hasViolation()).isFalse();
    }

    @Test
    void theOperatorUsingTheBrokerAndTheClusterUsingTheOperatorAreReported() {
        EvaluationResult result = Architecture.modules(BAD).evaluate(classes(BAD));
        assertThat(result.hasViolation()).isTrue();
        String report = String.join("\n", result.getFailureReport().getDetails());
        assertThat(report).contains("fixture.bad.operator.Reconciler").contains("fixture.bad.broker.kafka.Handler")
                .contains("fixture.bad.cluster.Store").contains("fixture.bad.operator.Reconciler");
    }

    @Test
    void theLogUsingTheTransportIsReportedAsAWrongArrowAndACycle() {
        JavaClasses bad = classes(BAD);
        EvaluationResult arrows = Architecture.brokerPackages(BAD).evaluate(bad);
        assertThat(arrows.hasViolation()).isTrue();
        assertThat(String.join("\n", arrows.getFailureReport().getDetails())).contains("fixture.bad.broker.log.Log")
                .contains("fixture.bad.broker.net.Server");
        EvaluationResult cycles = Architecture.noCycles(BAD).evaluate(bad);
        assertThat(cycles.hasViolation()).isTrue();
        assertThat(String.join("\n", cycles.getFailureReport().getDetails())).contains("broker.log").contains("broker.net");
    }
}
