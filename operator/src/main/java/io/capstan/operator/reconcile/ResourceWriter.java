package io.capstan.operator.reconcile;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

/**
 * How desired objects reach the API server. Server-side apply in production (the operator owns exactly the fields it
 * sets; other controllers' fields survive); create-or-update where the API server cannot apply (Fabric8's mock).
 */
public interface ResourceWriter {
    String FIELD_MANAGER = "capstan-operator";

    /** Writes {@code desired}; the object as the API server holds it afterwards. */
    HasMetadata write(HasMetadata desired);

    static ResourceWriter serverSideApply(KubernetesClient client) {
        return desired -> client.resource(desired).patch(new PatchContext.Builder().withPatchType(PatchType.SERVER_SIDE_APPLY)
                .withFieldManager(FIELD_MANAGER).withForce(true).build());
    }

    static ResourceWriter createOrUpdate(KubernetesClient client) {
        return desired -> client.resource(desired).createOr(existing -> existing.update());
    }
}
