package io.capstan.cluster.metadata;

/** The contract with keys in MetadataEntry custom resources, against Fabric8's mock API server (CRUD mode). */
class KubernetesMetadataEntryStoreTest extends KubernetesMetadataStoreTest {
    @Override
    protected KubernetesMetadataStore.ObjectKind kind() {
        return KubernetesMetadataStore.ObjectKind.METADATA_ENTRY;
    }
}
