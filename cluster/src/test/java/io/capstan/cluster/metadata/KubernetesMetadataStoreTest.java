package io.capstan.cluster.metadata;

import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import org.junit.jupiter.api.AfterEach;

/**
 * The contract against Fabric8's mock API server (CRUD mode). The proof against a real kube-apiserver belongs to the
 * Kubernetes end-to-end suite (issue 7).
 */
class KubernetesMetadataStoreTest extends MetadataStoreContract {
    KubernetesMockServer server;
    io.fabric8.kubernetes.client.KubernetesClient client;

    @Override
    protected MetadataStore newStore() {
        server = new KubernetesMockServer(new io.fabric8.mockwebserver.Context(), new io.fabric8.mockwebserver.MockWebServer(),
                new java.util.HashMap<>(), new io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher(), false);
        server.init();
        server.expectCustomResource(new io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext.Builder()
                .withGroup("capstan.io").withVersion("v1alpha1").withKind("MetadataEntry").withPlural("metadataentries")
                .withScope("Namespaced").build());
        client = server.createClient();
        return new KubernetesMetadataStore(client, "capstan", "orders", kind());
    }

    /** What keys are kept in (KubernetesMetadataEntryStoreTest: MetadataEntry resources). */
    protected KubernetesMetadataStore.ObjectKind kind() {
        return KubernetesMetadataStore.ObjectKind.CONFIG_MAP;
    }

    @AfterEach
    void stopServer() {
        client.close();
        server.destroy();
    }
}
