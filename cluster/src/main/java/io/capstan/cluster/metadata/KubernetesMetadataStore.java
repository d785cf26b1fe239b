package io.capstan.cluster.metadata;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link MetadataStore} on the Kubernetes API server: one ConfigMap per key, labelled with the store's name, the key
 * in an annotation and the value in {@code binaryData}. The ConfigMap's resourceVersion is the version, so the API
 * server (etcd) does the compare-and-set: an update or delete naming a stale resourceVersion is refused with 409.
 * The brokers' ServiceAccount needs get, list, watch, create, update and delete on configmaps in its namespace only.
 */
public final class KubernetesMetadataStore implements MetadataStore {
    public static final String STORE_LABEL = "capstan.io/metadata-store";
    public static final String KEY_ANNOTATION = "capstan.io/metadata-key";
    private static final String VALUE = "value";
    private static final int CONFLICT = 409;
    private static final int NOT_FOUND = 404;
    private static final Logger log = LoggerFactory.getLogger(KubernetesMetadataStore.class);

    private final KubernetesClient client;
    private final String namespace;
    private final String storeName;

    public KubernetesMetadataStore(KubernetesClient client, String namespace, String storeName) {
        if (!storeName.matches("[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?")) {
            throw new IllegalArgumentException("store name '" + storeName + "' must be a DNS label of at most 40 characters");
        }
        this.client = client;
        this.namespace = namespace;
        this.storeName = storeName;
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
        return Optional.ofNullable(client.configMaps().inNamespace(namespace).withName(objectName(key)).get()).map(this::toVersioned);
    }

    @Override
    public Map<String, Versioned> list(String prefix) {
        Map<String, Versioned> out = new TreeMap<>();
        for (ConfigMap cm : client.configMaps().inNamespace(namespace).withLabel(STORE_LABEL, storeName).list().getItems()) {
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
            return version(client.configMaps().inNamespace(namespace).resource(configMap(key, value, null)).create());
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
            return version(client.configMaps().inNamespace(namespace).resource(configMap(key, value, String.valueOf(expectedVersion))).update());
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
            var deleted = client.configMaps().inNamespace(namespace).withName(objectName(key))
                    .lockResourceVersion(String.valueOf(expectedVersion)).delete();
            if (deleted.isEmpty()) {
                throw new ConflictException(key + " does not exist");
            }
        } catch (KubernetesClientException e) {
            throw conflictOr(e, key + " is not at version " + expectedVersion);
        }
    }

    @Override
    public AutoCloseable watch(String prefix, Consumer<WatchEvent> listener) {
        // watch from the list's resourceVersion so that only changes from now on are reported
        String from = client.configMaps().inNamespace(namespace).withLabel(STORE_LABEL, storeName).list().getMetadata().getResourceVersion();
        Watch watch = client.configMaps().inNamespace(namespace).withLabel(STORE_LABEL, storeName)
                .watch(new ListOptionsBuilder().withResourceVersion(from).build(), new Watcher<ConfigMap>() {
                    @Override
                    public void eventReceived(Action action, ConfigMap cm) {
                        Versioned v = toVersioned(cm);
                        if (!v.key().startsWith(prefix)) {
                            return;
                        }
                        switch (action) {
                            case ADDED -> listener.accept(new WatchEvent(WatchEvent.Type.CREATED, v));
                            case MODIFIED -> listener.accept(new WatchEvent(WatchEvent.Type.UPDATED, v));
                            case DELETED -> listener.accept(new WatchEvent(WatchEvent.Type.DELETED, v));
                            default -> { }
                        }
                    }

                    @Override
                    public void onClose(WatcherException cause) {
                        log.warn("metadata watch on {} closed: {}; changes are no longer observed until it is reopened", storeName, cause.getMessage());
                    }
                });
        return watch::close;
    }

    private ConfigMap configMap(String key, byte[] value, String resourceVersion) {
        return new ConfigMapBuilder()
                .withNewMetadata().withName(objectName(key)).withNamespace(namespace).withResourceVersion(resourceVersion)
                .addToLabels(STORE_LABEL, storeName).addToAnnotations(KEY_ANNOTATION, key).endMetadata()
                .addToBinaryData(VALUE, Base64.getEncoder().encodeToString(value))
                .build();
    }

    private Versioned toVersioned(ConfigMap cm) {
        String encoded = cm.getBinaryData() == null ? null : cm.getBinaryData().get(VALUE);
        byte[] value = encoded == null ? new byte[0] : Base64.getDecoder().decode(encoded);
        return new Versioned(cm.getMetadata().getAnnotations().get(KEY_ANNOTATION), version(cm), value);
    }

    private static long version(ConfigMap cm) {
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
