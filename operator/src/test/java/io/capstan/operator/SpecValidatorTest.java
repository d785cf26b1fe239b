package io.capstan.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.spec.SpecProblem;
import io.capstan.operator.spec.SpecValidator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SpecValidatorTest {
    static BrokerClusterSpec spec(int replicas, Map<String, String> config) {
        BrokerClusterSpec s = new BrokerClusterSpec();
        s.replicas = replicas;
        s.version = "0.1.0";
        s.config.putAll(config);
        return s;
    }

    @Test
    void aValidSpecHasNoProblems() {
        assertThat(SpecValidator.validate(spec(3, Map.of("default.replication.factor", "3", "min.insync.replicas", "2")))).isEmpty();
    }

    @Test
    void numbersBeyondTheIntegerRangeAreProblemsNamingTheFieldNotExceptions() {
        List<SpecProblem> problems = SpecValidator.validate(spec(3, Map.of("min.insync.replicas", "9999999999")));
        assertThat(problems).extracting(SpecProblem::field, SpecProblem::message).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple("spec.config", "min.insync.replicas must be at most 2147483647, got '9999999999'"),
                org.assertj.core.groups.Tuple.tuple("spec.config.min.insync.replicas",
                        "is 9999999999 but spec.replicas is 3; no acks=all write could ever succeed"));
        assertThat(SpecValidator.validate(spec(3, Map.of("default.replication.factor", "99999999999999999999"))))
                .extracting(SpecProblem::message).containsExactly("default.replication.factor must be at most 2147483647, got '99999999999999999999'");
    }

    @Test
    void brokerSettingsAreCheckedByTheBrokersOwnRules() {
        assertThat(SpecValidator.validate(spec(3, Map.of("log.flush.polcy", "always"))))
                .extracting(SpecProblem::field, SpecProblem::message)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("spec.config",
                        "unknown setting(s) [log.flush.polcy]; see docs/configuration.md for the valid keys"));
        assertThat(SpecValidator.validate(spec(3, Map.of("log.flush.policy", "sometimes"))).get(0).message())
                .contains("log.flush.policy must be 'always' or 'interval'");
    }

    @Test
    void settingsTheOperatorOwnsAndImpossibleCombinationsAreNamed() {
        List<SpecProblem> problems = SpecValidator.validate(spec(2, Map.of("node.id", "4", "min.insync.replicas", "3")));
        assertThat(problems).extracting(SpecProblem::field)
                .containsExactlyInAnyOrder("spec.config.node.id", "spec.config.min.insync.replicas");
        BrokerClusterSpec canary = spec(3, Map.of());
        canary.rollout.canary = new BrokerClusterSpec.Canary();
        BrokerClusterSpec.Step step = new BrokerClusterSpec.Step();
        step.replicas = 5;
        canary.rollout.canary.steps.add(step);
        assertThat(SpecValidator.validate(canary)).extracting(SpecProblem::field).containsExactly("spec.rollout.canary.steps[0].replicas");
    }

    @Test
    void listenersAreRefusedUntilTheOperatorRendersThem() {
        List<SpecProblem> problems = SpecValidator.validate(spec(3, Map.of("listeners", "SASL_SSL://:9093",
                "listener.name.sasl_ssl.ssl.client.auth", "required")));
        assertThat(problems).extracting(SpecProblem::field)
                .contains("spec.config.listeners", "spec.config.listener.name.sasl_ssl.ssl.client.auth");
        assertThat(problems.get(0).message()).contains("spec.listeners");
    }

    @Test
    void podAnnotationsThatWouldLoosenTheSecurityProfileAreRefused() {
        BrokerClusterSpec spec = spec(3, Map.of());
        spec.podTemplate.metadata.annotations.put("container.apparmor.security.beta.kubernetes.io/broker", "unconfined");
        spec.podTemplate.metadata.annotations.put("seccomp.security.alpha.kubernetes.io/pod", "unconfined");
        spec.podTemplate.metadata.annotations.put("example.com/team", "payments");
        assertThat(SpecValidator.validate(spec)).extracting(SpecProblem::field).containsExactly(
                "spec.podTemplate.metadata.annotations.container.apparmor.security.beta.kubernetes.io/broker",
                "spec.podTemplate.metadata.annotations.seccomp.security.alpha.kubernetes.io/pod");
    }
}
