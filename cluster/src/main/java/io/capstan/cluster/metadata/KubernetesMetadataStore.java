package io.capstan.cluster.metadata;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A {@link MetadataStore} on the Kubernetes API server: one object per key, labelled with the store's name, the key
 * in an annotation and the value in {@code binaryData}. The object's resourceVersion is the version, so the API
 * server (etcd) does the compare-and-set: an update or delete naming a stale resourceVersion is refused with 409.
 * The objects are ConfigMaps, or {@code MetadataEntry} custom resources (capstan.io, the same shape), which let the
 * brokers' Role leave the namespace's ConfigMaps alone: their ServiceAccount needs get, list, watch, create, update
 * and delete on the one kind in its namespace only.
 */
public final class KubernetesMetadataStore implements MetadataStore {
    /** What each key is kept in. */
    public enum ObjectKind {
        CONFIG_MAP("v1", "ConfigMap"),
        METADATA_ENTRY("capstan.io/v1alpha1", "MetadataEntry");

        final String apiVersion;
        final String kind;

        ObjectKind(String apiVersion, String kind) {
            this.apiVersion = apiVersion;
            this.kind = kind;
        }

        /** By its Kubernetes kind name, as the setting metadata.kubernetes.kind spells it. */
        public static ObjectKind named(String kind) {
            for (ObjectKind k : values()) {
                if (k.kind.equalsIgnoreCase(kind)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("metadata.kubernetes.kind must be ConfigMap or MetadataEntry, got '" + kind + "'");
        }
    }

    public static final String STORE_LABEL = "capstan.io/metadata-store";
    public static final String KEY_ANNOTATION = "capstan.io/metadata-key";
    private static final String VALUE = "value";
    private static final String BINARY_DATA = "binaryData";
    private static final int CONFLICT = 409;
    private static final int NOT_FOUND = 404;

    private final KubernetesClient client;
    private final String namespace;
    private final String storeName;
    private final ObjectKind objects;

    /** Keys in ConfigMaps. */
    public KubernetesMetadataStore(KubernetesClient client, String namespace, String storeName) {
        this(client, namespace, storeName, ObjectKind.CONFIG_MAP);
    }

    public KubernetesMetadataStore(KubernetesClient client, String namespace, String storeName, ObjectKind objects) {
        if (!storeName.matches("[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?")) {
            throw new IllegalArgumentException("store name '" + storeName + "' must be a DNS label of at most 40 characters");
        }
        this.client = client;
        this.namespace = namespace;
        this.storeName = storeName;
        this.objects = objects;
    }

    private MixedOperation<GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>> objects() {
        return client.genericKubernetesResources(objects.apiVersion, objects.kind);
    }

    /** A DNS-1123 name per key: the store name and a digest of the key (keys contain '/', names cannot). */
    String objectName(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return storeName + "-" + HexFormat.of().formatHex(digest, 0, 10);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public Optional<Versioned> get(String key) {
        return Optional.ofNullable(objects().inNamespace(namespace).withName(objectName(key)).get()).map(this::toVersioned);
    }

    @Override
    public Map<String, Versioned> list(String prefix) {
        Map<String, Versioned> out = new TreeMap<>();
        for (GenericKubernetesResource cm : objects().inNamespace(namespace).withLabel(STORE_LABEL, storeName).list().getItems()) {
            Versioned v = toVersioned(cm);
            if (v.key().startsWith(prefix)) {
                out.put(v.key(), v);
            }
        }
        return out;
    }

    @Override
    public long create(String key, byte[] value) throws ConflictException {
        try {
            return version(objects().inNamespace(namespace).resource(object(key, value, null)).create());
        } catch (KubernetesClientException e) {
            if (e.getCode() == CONFLICT) {
                throw new ConflictException(key + " already exists");
            }
            throw e;
        }
    }

    @Override
    public long compareAndSet(String key, long expectedVersion, byte[] value) throws ConflictException {
        try {
            return version(objects().inNamespace(namespace).resource(object(key, value, String.valueOf(expectedVersion))).update());
        } catch (KubernetesClientException e) {
            throw conflictOr(e, key + " is not at version " + expectedVersion);
        }
    }

    @Override
    public void delete(String key, long expectedVersion) throws ConflictException {
        // the API server enforces the precondition below; the read first gives a clear answer where it is not sent
        // (Fabric8's mock server ignores delete preconditions)
        long current = get(key).map(Versioned::version).orElse(-1L);
        if (current != expectedVersion) {
            throw new ConflictException(key + " is at version " + current + ", not " + expectedVersion);
        }
        try {
            var deleted = objects().inNamespace(namespace).withName(objectName(key))
                    .lockResourceVersion(String.valueOf(expectedVersion)).delete();
            if (deleted.isEmpty()) {
                throw new ConflictException(key + " does not exist");
            }
        } catch (KubernetesClientException e) {
            throw conflictOr(e, key + " is not at version " + expectedVersion);
        }
    }

    @Override
    public AutoCloseable watch(String prefix, MetadataListener listener) {
        return new InformerWatch(prefix, listener).start();
    }

    /**
     * A watch on Fabric8's shared informer (list, then watch from the list's resourceVersion, reconnect from the last
     * one seen, re-list when the API server answers 410 Gone and deliver the difference). Its callbacks are moved onto
     * one thread of our own, with the version delivered per key, so that the first listing can be completed from the
     * informer's store and followed by {@code synced()} in order, and nothing is delivered twice.
     */
    private final class InformerWatch implements ResourceEventHandler<GenericKubernetesResource> {
        private final String prefix;
        private final MetadataListener listener;
        private final java.util.concurrent.ExecutorService events = java.util.concurrent.Executors.newSingleThreadExecutor(
                io.capstan.cluster.DaemonThreads.named("capstan-metadata-watch"));
        private final Map<String, Long> delivered = new java.util.HashMap<>();
        private SharedIndexInformer<GenericKubernetesResource> informer;

        InformerWatch(String prefix, MetadataListener listener) {
            this.prefix = prefix;
            this.listener = listener;
        }

        AutoCloseable start() {
            informer = objects().inNamespace(namespace).withLabel(STORE_LABEL, storeName).inform(this, 0);
            events.execute(() -> {
                informer.getStore().list().forEach(cm -> put(toVersioned(cm)));
                listener.synced();
            });
            return () -> {
                informer.close();
                events.shutdownNow();
            };
        }

        @Override
        public void onAdd(GenericKubernetesResource cm) {
            Versioned v = toVersioned(cm);
            events.execute(() -> put(v));
        }

        @Override
        public void onUpdate(GenericKubernetesResource before, GenericKubernetesResource after) {
            Versioned v = toVersioned(after);
            events.execute(() -> put(v));
        }

        @Override
        public void onDelete(GenericKubernetesResource cm, boolean finalStateUnknown) {
            Versioned v = toVersioned(cm);
            events.execute(() -> {
                Long was = delivered.get(v.key());
                if (was != null && v.key().startsWith(prefix) && (finalStateUnknown || was <= v.version())) {
                    delivered.remove(v.key());
                    listener.changed(WatchEvent.deleted(v.key(), Math.max(was, v.version())));
                }
            });
        }

        private void put(Versioned v) {
            if (!v.key().startsWith(prefix)) {
                return;
            }
            Long was = delivered.get(v.key());
            if (was == null || was < v.version()) {
                delivered.put(v.key(), v.version());
                listener.changed(new WatchEvent(was == null ? WatchEvent.Type.CREATED : WatchEvent.Type.UPDATED, v));
            }
        }
    }

    private GenericKubernetesResource object(String key, byte[] value, String resourceVersion) {
        return new GenericKubernetesResourceBuilder().withApiVersion(objects.apiVersion).withKind(objects.kind)
                .withNewMetadata().withName(objectName(key)).withNamespace(namespace).withResourceVersion(resourceVersion)
                .addToLabels(STORE_LABEL, storeName).addToAnnotations(KEY_ANNOTATION, key).endMetadata()
                .addToAdditionalProperties(BINARY_DATA, Map.of(VALUE, Base64.getEncoder().encodeToString(value)))
                .build();
    }

    private Versioned toVersioned(GenericKubernetesResource cm) {
        Object data = cm.getAdditionalProperties().get(BINARY_DATA);
        String encoded = data instanceof Map<?, ?> m && m.get(VALUE) instanceof String v ? v : null;
        byte[] value = encoded == null ? new byte[0] : Base64.getDecoder().decode(encoded);
        return new Versioned(cm.getMetadata().getAnnotations().get(KEY_ANNOTATION), version(cm), value);
    }

    private static long version(GenericKubernetesResource cm) {
        // etcd revisions: numeric on every real API server, though Kubernetes calls them opaque
        return Long.parseLong(cm.getMetadata().getResourceVersion());
    }

    private static ConflictException conflictOr(KubernetesClientException e, String message) {
        if (e.getCode() == CONFLICT || e.getCode() == NOT_FOUND) {
            return new ConflictException(message);
        }
        throw e;
    }

    @Override
    public void close() {
        // the client belongs to the caller
    }
}
