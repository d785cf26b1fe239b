package io.capstan.operator.storage;

import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.spec.SpecProblem;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/** The brokers' volumes: {@link VolumePlan}'s inputs read from what the operator observed, and its resizes carried out. */
public final class Volumes {
    /** The name of the brokers' data volume in the StatefulSet (its claims are data-CLUSTER-N). */
    public static final String CLAIM_TEMPLATE = "data";
    public static final String DEFAULT_SIZE = "10Gi";

    private final KubernetesClient client;

    public Volumes(KubernetesClient client) {
        this.client = client;
    }

    /** The plan for {@code spec} (the spec that runs), the StatefulSet as observed (null before it exists) and its claims. */
    public static VolumePlan.Decision plan(BrokerClusterSpec spec, StatefulSet statefulSet, List<PersistentVolumeClaim> claims) {
        String size = spec.storage == null || spec.storage.size == null ? DEFAULT_SIZE : spec.storage.size;
        String storageClass = spec.storage == null ? null : spec.storage.storageClassName;
        return VolumePlan.decide(size, storageClass, template(statefulSet), claims.stream().map(Volumes::claim).toList());
    }

    static VolumePlan.Template template(StatefulSet sts) {
        if (sts == null || sts.getSpec() == null || sts.getSpec().getVolumeClaimTemplates() == null) {
            return null;
        }
        return sts.getSpec().getVolumeClaimTemplates().stream().filter(t -> CLAIM_TEMPLATE.equals(t.getMetadata().getName())).findFirst()
                .map(t -> new VolumePlan.Template(requested(t), t.getSpec().getStorageClassName())).orElse(null);
    }

    static VolumePlan.Claim claim(PersistentVolumeClaim pvc) {
        Quantity capacity = pvc.getStatus() == null || pvc.getStatus().getCapacity() == null ? null : pvc.getStatus().getCapacity().get("storage");
        List<String> conditions = pvc.getStatus() == null || pvc.getStatus().getConditions() == null ? List.of()
                : pvc.getStatus().getConditions().stream().filter(c -> "True".equals(c.getStatus())).map(c -> c.getType()).toList();
        return new VolumePlan.Claim(pvc.getMetadata().getName(), pvc.getSpec().getStorageClassName(), requested(pvc),
                capacity == null ? null : capacity.toString(), conditions);
    }

    private static String requested(PersistentVolumeClaim pvc) {
        Map<String, Quantity> requests = pvc.getSpec().getResources() == null ? null : pvc.getSpec().getResources().getRequests();
        Quantity q = requests == null ? null : requests.get("storage");
        return q == null ? "0" : q.toString();
    }

    /**
     * Asks the API server to grow each claim the decision names, reporting each to {@code resized} (claim, size). A
     * claim the API server will not grow (its StorageClass does not allow expansion, or it has none) makes the decision
     * refused, naming spec.storage.size, and stops the rest.
     */
    public VolumePlan.Decision resize(String namespace, VolumePlan.Decision decision, BiConsumer<String, String> resized) {
        for (var e : decision.resize().entrySet()) {
            String patch = "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"" + e.getValue() + "\"}}}}";
            try {
                client.persistentVolumeClaims().inNamespace(namespace).withName(e.getKey())
                        .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
            } catch (KubernetesClientException refused) {
                if (refused.getCode() != 403 && refused.getCode() != 422) {
                    throw refused;
                }
                String why = refused.getStatus() != null && refused.getStatus().getMessage() != null ? refused.getStatus().getMessage() : refused.getMessage();
                return decision.refusing(new SpecProblem("spec.storage.size", "is " + e.getValue() + ", but the API server refused to grow "
                        + e.getKey() + " (" + why + "); set it back to the volumes' size, or use a StorageClass with allowVolumeExpansion: true"));
            }
            resized.accept(e.getKey(), e.getValue());
        }
        return decision;
    }
}
