package io.capstan.operator.reconcile;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.util.List;

/** Kubernetes-style conditions: one per type, with the transition time kept while the status does not change. */
public final class Conditions {
    public static final String READY = "Ready";
    public static final String PROGRESSING = "Progressing";
    public static final String DEGRADED = "Degraded";
    public static final String PAUSED = "ReconciliationPaused";
    /** A warning: spec.image is run from any registry, since the operator has no allowed list. */
    public static final String IMAGE_UNRESTRICTED = "ImageUnrestricted";
    /** True while a broker on a lost node waits for the operator (spec.nodeLoss) and cannot be replaced yet. */
    public static final String BROKER_ON_LOST_NODE = "BrokerOnLostNode";

    private Conditions() {}

    public static void set(List<Condition> conditions, String type, boolean status, String reason, String message, long generation) {
        String value = status ? "True" : "False";
        Condition existing = conditions.stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
        String since = existing != null && value.equals(existing.getStatus()) ? existing.getLastTransitionTime() : Instant.now().toString();
        conditions.removeIf(c -> type.equals(c.getType()));
        conditions.add(new ConditionBuilder().withType(type).withStatus(value).withReason(reason).withMessage(message)
                .withObservedGeneration(generation).withLastTransitionTime(since).build());
        conditions.sort(java.util.Comparator.comparing(Condition::getType));
    }

    public static Condition get(List<Condition> conditions, String type) {
        return conditions.stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
    }
}
