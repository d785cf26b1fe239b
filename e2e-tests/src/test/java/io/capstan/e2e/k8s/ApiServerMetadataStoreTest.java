package io.capstan.e2e.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.cluster.metadata.KubernetesMetadataStore;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.MetadataStoreContract;
import io.capstan.cluster.metadata.Versioned;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The metadata store contract against a real kube-apiserver and etcd, and what only a real one can show: a watch cut
 * off from the API server resumes where it was, and one whose history etcd compacted meanwhile (410 Gone) lists again,
 * both ending equal to the store.
 */
@org.junit.jupiter.api.Tag(ControlPlane.TAG)
class ApiServerMetadataStoreTest extends MetadataStoreContract {
    private static final String NAMESPACE = "metadata";
    private static final AtomicInteger STORES = new AtomicInteger();
    static ControlPlane controlPlane;
    static KubernetesClient client;

    @BeforeAll
    static void start() throws Exception {
        ControlPlane.assumeBuilt(false);
        controlPlane = ControlPlane.start(Path.of("target", "k8s-" + System.nanoTime()).toAbsolutePath());
        client = controlPlane.adminClient();
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build()).create();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (controlPlane != null) {
            controlPlane.close();
        }
    }

    /** What the keys are kept in (ApiServerMetadataEntryStoreTest runs all of this on MetadataEntry resources). */
    protected KubernetesMetadataStore.ObjectKind kind() {
        return KubernetesMetadataStore.ObjectKind.CONFIG_MAP;
    }

    /** A store of its own per test: its label keeps the other tests' keys out of its lists and watches. */
    @Override
    protected MetadataStore newStore() {
        return new KubernetesMetadataStore(client, NAMESPACE, "contract-" + STORES.incrementAndGet(), kind());
    }

    @Test
    void aWatchCutOffFromTheApiServerResumesAndCatchesUp() throws Exception {
        partitionedWatch(false, false);
    }

    @Test
    void aWatchWhoseHistoryWasCompactedWhileCutOffListsAgainAndCatchesUp() throws Exception {
        partitionedWatch(true, true);
    }

    /** Whether the API server refuses (410 Gone) to resume a watch of this store from {@code version}. */
    private boolean watchFromIsGone(String store, long version) throws Exception {
        java.util.concurrent.CompletableFuture<Boolean> gone = new java.util.concurrent.CompletableFuture<>();
        var objects = kind() == KubernetesMetadataStore.ObjectKind.CONFIG_MAP ? client.genericKubernetesResources("v1", "ConfigMap")
                : client.genericKubernetesResources("capstan.io/v1alpha1", "MetadataEntry");
        try (var ignored = objects.inNamespace(NAMESPACE).withLabel(KubernetesMetadataStore.STORE_LABEL, store)
                .watch(new io.fabric8.kubernetes.api.model.ListOptionsBuilder().withResourceVersion(String.valueOf(version)).build(),
                        new io.fabric8.kubernetes.client.Watcher<io.fabric8.kubernetes.api.model.GenericKubernetesResource>() {
                            @Override
                            public void eventReceived(Action action, io.fabric8.kubernetes.api.model.GenericKubernetesResource resource) {
                                gone.complete(false); // history was still there
                            }

                            @Override
                            public void onClose(io.fabric8.kubernetes.client.WatcherException cause) {
                                gone.complete(cause.isHttpGone());
                            }
                        })) {
            return gone.get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
            return e.getCode() == 410;
        }
    }

    /** {@code expectGone}: the compaction must make the API server answer a watch from before the cut with 410 Gone. */
    protected void partitionedWatch(boolean compact, boolean expectGone) throws Exception {
        String name = "partitioned-" + STORES.incrementAndGet();
        MetadataStore writer = new KubernetesMetadataStore(client, NAMESPACE, name, kind());
        long kept = writer.create("shards/t/0", b("0"));
        long doomed = writer.create("shards/t/1", b("doomed"));
        try (TcpProxy proxy = new TcpProxy(controlPlane.apiPort());
             KubernetesClient viaProxy = new KubernetesClientBuilder().withConfig(new ConfigBuilder(controlPlane.adminConfig())
                     .withMasterUrl("https://127.0.0.1:" + proxy.port()).withRequestRetryBackoffLimit(0).build()).build()) {
            MetadataStore watched = new KubernetesMetadataStore(viaProxy, NAMESPACE, name, kind());
            Recorder r = new Recorder();
            try (AutoCloseable w = watched.watch("shards/", r)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> r.syncedAfter == 2);
                proxy.cut();
                // while the watcher cannot reach the API server: an update, a delete, a new key, and churn
                for (int i = 1; i <= 20; i++) {
                    kept = writer.compareAndSet("shards/t/0", kept, b(String.valueOf(i)));
                }
                writer.delete("shards/t/1", doomed);
                writer.create("shards/t/2", b("born while cut off"));
                if (compact) {
                    controlPlane.compactEtcd();
                    if (expectGone) {
                        assertThat(watchFromIsGone(name, doomed)).as("a watch from before the cut is answered 410 Gone").isTrue();
                    }
                }
                assertThat(r.replayed()).as("nothing reached the watcher while cut off").containsKey("shards/t/1");
                proxy.restore();
                await().atMost(Duration.ofSeconds(90)).untilAsserted(() ->
                        assertThat(r.replayed()).isEqualTo(asReplayed(writer.list("shards/"))));
                assertThat(r.replayed()).doesNotContainKey("shards/t/1").containsKey("shards/t/2");
                // and it keeps following afterwards
                Versioned last = writer.get("shards/t/0").orElseThrow();
                writer.compareAndSet("shards/t/0", last.version(), b("after"));
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                        assertThat(r.replayed()).isEqualTo(asReplayed(writer.list("shards/"))));
            }
        }
    }
}
