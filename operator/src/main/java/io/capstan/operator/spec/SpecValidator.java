package io.capstan.operator.spec;

import io.capstan.config.BrokerConfig;
import io.capstan.config.ConfigException;
import io.capstan.operator.api.BrokerClusterSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the CRD schema cannot check: broker settings (validated by the broker's own {@link BrokerConfig}, so the
 * operator and the broker never disagree), settings the operator owns, and cross-field rules. Pure.
 */
public final class SpecValidator {
    /** Set by the operator for every broker; a user value would break the cluster. */
    public static final Set<String> OPERATOR_OWNED = Set.of("node.id", "data.dir", "listener.host", "listener.port",
            "advertised.host", "advertised.port", "admin.port", "metadata.dir", "metadata.store", "metadata.namespace",
            "metadata.name", "broker.rack", "broker.rack.node.label", "cluster.id");

    /** The broker's listeners: the operator renders one PLAINTEXT listener until spec.listeners exists (issue 16). */
    public static final Set<String> LISTENER_SETTINGS = Set.of("listeners", "advertised.listeners", "listener.security.protocol.map",
            "inter.broker.listener.name");

    /**
     * Pod annotations that would loosen the brokers' hardened security context (AppArmor and seccomp overrides, the
     * annotations older Kubernetes read for them): refused rather than passed through to the pods.
     */
    public static final List<String> DENIED_ANNOTATION_PREFIXES = List.of("container.apparmor.security.beta.kubernetes.io/",
            "apparmor.security.beta.kubernetes.io/", "seccomp.security.alpha.kubernetes.io/", "container.seccomp.security.alpha.kubernetes.io/");

    private SpecValidator() {}

    public static List<SpecProblem> validate(BrokerClusterSpec spec) {
        List<SpecProblem> problems = new ArrayList<>();
        Map<String, String> config = spec.config == null ? Map.of() : spec.config;
        Map<String, String> userSettings = new HashMap<>();
        config.forEach((key, value) -> {
            if (OPERATOR_OWNED.contains(key)) {
                problems.add(new SpecProblem("spec.config." + key, "is set by the operator for each broker; remove it"));
            } else if (LISTENER_SETTINGS.contains(key) || key.startsWith("listener.name.")) {
                problems.add(new SpecProblem("spec.config." + key, "the operator renders the brokers' listeners itself and cannot"
                        + " yet run TLS or SASL listeners on Kubernetes (planned as spec.listeners); remove it"));
            } else {
                userSettings.put(key, value == null ? "" : value);
            }
        });
        try {
            BrokerConfig.from(userSettings);
        } catch (ConfigException e) {
            problems.add(new SpecProblem("spec.config", e.getMessage()));
        }
        int replicas = spec.replicas == null ? 0 : spec.replicas;
        String factor = config.get("default.replication.factor");
        if (factor != null && factor.matches("[0-9]{1,18}") && Long.parseLong(factor) > replicas) {
            problems.add(new SpecProblem("spec.config.default.replication.factor", "is " + factor + " but spec.replicas is "
                    + replicas + "; topics could not be created with that many replicas"));
        }
        String minInsync = config.get("min.insync.replicas");
        if (minInsync != null && minInsync.matches("[0-9]{1,18}") && Long.parseLong(minInsync) > replicas) {
            problems.add(new SpecProblem("spec.config.min.insync.replicas", "is " + minInsync + " but spec.replicas is "
                    + replicas + "; no acks=all write could ever succeed"));
        }
        Map<String, String> annotations = spec.podTemplate == null || spec.podTemplate.metadata == null
                || spec.podTemplate.metadata.annotations == null ? Map.of() : spec.podTemplate.metadata.annotations;
        annotations.keySet().stream().sorted().filter(k -> DENIED_ANNOTATION_PREFIXES.stream().anyMatch(k::startsWith)).forEach(k ->
                problems.add(new SpecProblem("spec.podTemplate.metadata.annotations." + k, "would override the brokers' AppArmor or"
                        + " seccomp profile, which the operator sets for Pod Security \"restricted\"; remove it")));
        if (spec.rollout != null && spec.rollout.canary != null && spec.rollout.canary.steps != null) {
            List<BrokerClusterSpec.Step> steps = spec.rollout.canary.steps;
            for (int i = 0; i < steps.size(); i++) {
                BrokerClusterSpec.Step step = steps.get(i);
                if (step.replicas != null && step.replicas > replicas) {
                    problems.add(new SpecProblem("spec.rollout.canary.steps[" + i + "].replicas", "is " + step.replicas
                            + " but the cluster has " + replicas + " brokers"));
                }
            }
        }
        return problems;
    }
}
