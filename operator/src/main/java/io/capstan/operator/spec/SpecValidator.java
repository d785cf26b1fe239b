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
                problems.add(new SpecProblem("spec.config." + key, "the operator renders the brokers' listeners from"
                        + " spec.listeners (name, port, tls, authentication); remove it and use spec.listeners"));
            } else if (key.startsWith("ssl.") || key.equals("sasl.enabled.mechanisms") || key.equals("admin.token.file")
                    || key.startsWith("inter.broker.sasl.") || key.equals("sasl.mechanism.inter.broker.protocol")) {
                problems.add(new SpecProblem("spec.config." + key, "TLS and SASL are configured by spec.listeners, with"
                        + " certificates from the operator's CAs; remove it"));
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
        listeners(spec, problems);
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

    /** Ports the brokers use themselves: replication (with spec.listeners) and the admin port. */
    public static final Set<Integer> RESERVED_PORTS = Set.of(9091, 9644);

    /**
     * An ingress or tlsroute listener's host names: a proxy routes by host name alone, so each must name one broker
     * (or the bootstrap) of one listener; overrides are keyed by broker id.
     */
    private static void passthroughHosts(BrokerClusterSpec spec, BrokerClusterSpec.ListenerSpec l, String field,
                                         java.util.Map<String, String> seen, List<SpecProblem> problems) {
        if (!("ingress".equals(l.type) || "tlsroute".equals(l.type))) {
            return;
        }
        // the CRD's rules say the same; a cluster applied under an older CRD reaches here without them
        if (l.hosts == null || l.hosts.bootstrap == null || l.hosts.broker == null || !l.hosts.broker.contains("{id}")) {
            problems.add(new SpecProblem(field + ".hosts", "type " + l.type + " needs hosts.bootstrap and hosts.broker with {id} in it"));
            return;
        }
        if ("tlsroute".equals(l.type) && (l.gateway == null || l.gateway.name == null)) {
            problems.add(new SpecProblem(field + ".gateway", "type tlsroute needs gateway.name, the Gateway its routes attach to"));
        }
        if (l.hosts.overrides != null) {
            for (String id : l.hosts.overrides.keySet()) {
                if (!id.matches("0|[1-9][0-9]{0,8}")) {
                    problems.add(new SpecProblem(field + ".hosts.overrides", "has key " + id + ", which is not a broker id (0, 1, ...)"));
                }
            }
        }
        java.util.Map<String, String> names = new java.util.LinkedHashMap<>();
        names.put(l.hosts.bootstrap, "the bootstrap");
        int brokers = spec.replicas == null ? 0 : spec.replicas;
        for (int id = 0; id < brokers; id++) {
            String host = l.hosts.forBroker(id);
            String previous = names.putIfAbsent(host, "broker " + id);
            if (previous != null) {
                problems.add(new SpecProblem(field + ".hosts", "gives " + host + " to both " + previous + " and broker " + id
                        + "; a proxy routing by host name could not tell them apart"));
            }
        }
        names.forEach((host, what) -> {
            String other = seen.putIfAbsent(host, l.name);
            if (other != null && !other.equals(l.name)) {
                problems.add(new SpecProblem(field + ".hosts", "gives " + host + " to " + what + ", as listener " + other
                        + " does; give each listener its own host names"));
            }
        });
    }

    private static void listeners(BrokerClusterSpec spec, List<SpecProblem> problems) {
        if (spec.listeners != null) {
            Set<String> names = new java.util.HashSet<>();
            Set<Integer> ports = new java.util.HashSet<>();
            java.util.Map<String, String> hosts = new java.util.HashMap<>();
            for (int i = 0; i < spec.listeners.size(); i++) {
                BrokerClusterSpec.ListenerSpec l = spec.listeners.get(i);
                String field = "spec.listeners[" + i + "]";
                if (l.name != null && (l.name.equals("replication") || !names.add(l.name))) {
                    problems.add(new SpecProblem(field + ".name", l.name.equals("replication")
                            ? "replication is the brokers' own listener; choose another name" : "another listener is also named " + l.name));
                }
                if (l.port != null && (RESERVED_PORTS.contains(l.port) || !ports.add(l.port))) {
                    problems.add(new SpecProblem(field + ".port", RESERVED_PORTS.contains(l.port)
                            ? "is " + l.port + ", which the brokers use (9091 replication, 9644 admin); choose another" : "another listener also uses " + l.port));
                }
                passthroughHosts(spec, l, field, hosts, problems);
            }
        }
        if (spec.certificates != null) {
            java.time.Duration validity = Durations.parse(spec.certificates.validity);
            java.time.Duration renewBefore = Durations.parse(spec.certificates.renewBefore);
            java.time.Duration caValidity = Durations.parse(spec.certificates.caValidity);
            if (renewBefore.compareTo(validity) >= 0) {
                problems.add(new SpecProblem("spec.certificates.renewBefore", "is " + spec.certificates.renewBefore
                        + ", not shorter than validity " + spec.certificates.validity + "; certificates would be renewed on every pass"));
            }
            if (validity.compareTo(caValidity) > 0) {
                problems.add(new SpecProblem("spec.certificates.validity", "is " + spec.certificates.validity
                        + ", longer than caValidity " + spec.certificates.caValidity + " (a certificate never outlives its CA)"));
            }
        }
    }
}
