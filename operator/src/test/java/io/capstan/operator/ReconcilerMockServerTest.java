package io.capstan.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.reconcile.BrokerClusterReconciler;
import io.capstan.operator.reconcile.Conditions;
import io.capstan.operator.reconcile.ResourceWriter;
import io.capstan.operator.resources.DesiredResources;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.util.HashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The reconciler against Fabric8's mock API server (CRUD mode, so create-or-update instead of server-side apply). The
 * real API server (schema validation, server-side apply, garbage collection) is the Kubernetes e2e suite's job.
 */
class ReconcilerMockServerTest {
    KubernetesMockServer server;
    KubernetesClient client;
    BrokerClusterReconciler reconciler;
    volatile int underReplicated;
    final java.util.List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The cluster's metadata store as the brokers would keep it: live brokers and shards; reassignments complete at once. */
    final java.util.List<io.capstan.cluster.planner.AssignmentPlanner.Broker> alive = new java.util.concurrent.CopyOnWriteArrayList<>();
    final java.util.Map<String, io.capstan.cluster.metadata.ShardState> shardStates = new java.util.concurrent.ConcurrentHashMap<>();
    final io.capstan.operator.shards.ClusterMetadata metadata = new io.capstan.operator.shards.ClusterMetadata() {
        @Override
        public java.util.List<io.capstan.cluster.planner.AssignmentPlanner.Broker> aliveBrokers(BrokerCluster cluster) {
            return java.util.List.copyOf(alive);
        }

        @Override
        public java.util.List<io.capstan.cluster.metadata.ShardState> shards(BrokerCluster cluster) {
            java.util.List<io.capstan.cluster.metadata.ShardState> out = new java.util.ArrayList<>(shardStates.values());
            for (int i = 0; i < underReplicated && i < out.size(); i++) {
                var s = out.get(i);
                out.set(i, s.withIsr(java.util.List.of(s.leader())));
            }
            return out;
        }

        @Override
        public io.capstan.operator.version.ClusterVersionPlan.Observed clusterVersion(BrokerCluster cluster) {
            return clusterVersion;
        }

        @Override
        public io.capstan.cluster.version.ClusterVersionChange.Outcome finalizeClusterVersion(BrokerCluster cluster, int level) {
            finalizedAt.add(level);
            clusterVersion = new io.capstan.operator.version.ClusterVersionPlan.Observed(level, clusterVersion.supportedByAll());
            return new io.capstan.cluster.version.ClusterVersionChange.Raise(new io.capstan.cluster.version.ClusterVersion(level));
        }

        @Override
        public void reassign(BrokerCluster cluster, String topic, int partition, java.util.List<Integer> replicas) {
            var old = shardStates.get(topic + "-" + partition);
            int leader = replicas.contains(old.leader()) ? old.leader() : replicas.get(0);
            shardStates.put(topic + "-" + partition, new io.capstan.cluster.metadata.ShardState(topic, partition, replicas, leader,
                    old.leaderEpoch() + 1, replicas));
        }
    };
    volatile long now = 1_000_000;
    /** The cluster version as the brokers' store would hold it (null: no broker registered). */
    volatile io.capstan.operator.version.ClusterVersionPlan.Observed clusterVersion;
    final java.util.List<Integer> finalizedAt = new java.util.concurrent.CopyOnWriteArrayList<>();
    final io.capstan.operator.reconcile.OperatorMetrics metrics = io.capstan.operator.reconcile.OperatorMetrics.unregistered();
    volatile io.capstan.operator.rollout.RollingRestart.Safety safety = io.capstan.operator.rollout.RollingRestart.Safety.SAFE;

    @BeforeEach
    void start() {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init();
        client = io.capstan.operator.reconcile.ApiCalls.counting(new io.fabric8.kubernetes.client.KubernetesClientBuilder()
                .withConfig(server.createClient().getConfiguration())).build();
        reconciler = new BrokerClusterReconciler(client, ResourceWriter.createOrUpdate(client), pod -> safety, metadata, null, () -> now)
                .withEvents(new io.capstan.operator.reconcile.EventRecorder() {
                    @Override
                    public void normal(BrokerCluster cluster, String reason, String message) {
                        events.add("Normal " + reason + ": " + message);
                    }

                    @Override
                    public void warning(BrokerCluster cluster, String reason, String message) {
                        events.add("Warning " + reason + ": " + message);
                    }
                }).withMetrics(metrics);
    }

    @AfterEach
    void stop() {
        client.close();
        server.destroy();
    }

    private BrokerCluster create(int replicas, java.util.Map<String, String> config) {
        BrokerCluster c = new BrokerCluster();
        c.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace("shop").build());
        BrokerClusterSpec spec = new BrokerClusterSpec();
        spec.replicas = replicas;
        spec.version = "0.1.0";
        spec.config.putAll(config);
        c.setSpec(spec);
        return client.resource(c).create();
    }

    private BrokerCluster reconcile() {
        BrokerCluster current = client.resources(BrokerCluster.class).inNamespace("shop").withName("orders").get();
        BrokerCluster done = reconciler.reconcile(current);
        return client.resource(done).updateStatus();
    }

    private String exposition() {
        try {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
            return out.toString(java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** As the StatefulSet controller reports it: it has seen the current spec. */
    private static long observed(StatefulSet sts) {
        return sts.getMetadata().getGeneration() == null ? 0 : sts.getMetadata().getGeneration();
    }

    private StatefulSet sts() {
        return client.apps().statefulSets().inNamespace("shop").withName("orders").get();
    }

    /** A cluster with one SCRAM listener on TLS, certificates as given. */
    private void createSecured(BrokerClusterSpec.Certificates certificates) {
        BrokerCluster c = new BrokerCluster();
        c.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace("shop").build());
        BrokerClusterSpec spec = new BrokerClusterSpec();
        spec.replicas = 3;
        spec.version = "0.1.0";
        BrokerClusterSpec.ListenerSpec tls = new BrokerClusterSpec.ListenerSpec();
        tls.name = "tls";
        tls.port = 9093;
        tls.tls = true;
        tls.authentication = "scram-sha-512";
        spec.listeners = java.util.List.of(tls);
        spec.certificates = certificates;
        c.setSpec(spec);
        client.resource(c).create();
    }

    private String secretFile(String secret, String key) {
        var s = client.secrets().inNamespace("shop").withName(secret).get();
        return s == null || s.getData().get(key) == null ? null
                : new String(java.util.Base64.getDecoder().decode(s.getData().get(key)), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** A broker's claim as the StatefulSet controller would create it from the template, bound at {@code capacity}. */
    private void claim(int ordinal, String requested, String capacity) {
        client.persistentVolumeClaims().inNamespace("shop").resource(new io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder()
                .withNewMetadata().withName("data-orders-" + ordinal).withLabels(io.capstan.operator.resources.Labels.selector("orders")).endMetadata()
                .withNewSpec().withStorageClassName("expandable").withAccessModes("ReadWriteOnce")
                .withNewResources().addToRequests("storage", new io.fabric8.kubernetes.api.model.Quantity(requested)).endResources().endSpec()
                .withNewStatus().withPhase("Bound").addToCapacity("storage", new io.fabric8.kubernetes.api.model.Quantity(capacity)).endStatus()
                .build()).create();
    }

    private void threeBrokersWithTenGigabyteClaims() {
        create(3, java.util.Map.of());
        reconcile();
        for (int i = 0; i < 3; i++) {
            claim(i, "10Gi", "10Gi");
        }
    }

    private String requested(int ordinal) {
        return client.persistentVolumeClaims().inNamespace("shop").withName("data-orders-" + ordinal).get()
                .getSpec().getResources().getRequests().get("storage").toString();
    }

    @Test
    void aLargerStorageSizeGrowsEveryClaimAndLeavesTheStatefulSetsClaimTemplateAlone() {
        threeBrokersWithTenGigabyteClaims();
        var templateBefore = sts().getSpec().getVolumeClaimTemplates();
        assertThat(reconcile().getStatus().storage.phase).isEqualTo("Ready");

        BrokerCluster c = client.resources(BrokerCluster.class).inNamespace("shop").withName("orders").get();
        c.getSpec().storage.size = "20Gi";
        client.resource(c).update();
        BrokerCluster done = reconcile();
        assertThat(sts().getSpec().getVolumeClaimTemplates()).as("volumeClaimTemplates cannot change once the StatefulSet exists")
                .isEqualTo(templateBefore);
        assertThat(java.util.List.of(requested(0), requested(1), requested(2))).containsOnly("20Gi");
        assertThat(done.getStatus().storage.phase).isEqualTo("Expanding");
        assertThat(done.getStatus().storage.message).startsWith("0 of 3 volumes at their size; data-orders-0: resizing from 10Gi to 20Gi");
        assertThat(events).contains("Normal ResizingVolume: growing data-orders-1 to 20Gi (spec.storage.size)");
        assertThat(Conditions.get(done.getStatus().conditions, Conditions.DEGRADED).getStatus()).isEqualTo("False");

        // the volumes' driver grows them: the claims report the new capacity
        for (int i = 0; i < 3; i++) {
            var pvc = client.persistentVolumeClaims().inNamespace("shop").withName("data-orders-" + i).get();
            pvc.getStatus().getCapacity().put("storage", new io.fabric8.kubernetes.api.model.Quantity("20Gi"));
            client.resource(pvc).updateStatus();
        }
        events.clear();
        done = reconcile();
        assertThat(done.getStatus().storage.phase).isEqualTo("Ready");
        assertThat(done.getStatus().storage.message).isEqualTo("3 of 3 volumes at their size");
        assertThat(events).noneMatch(e -> e.contains("ResizingVolume"));
    }

    @Test
    void aSmallerStorageSizeOrAnotherClassIsRefusedNamingTheFieldAndNoClaimChanges() {
        threeBrokersWithTenGigabyteClaims();
        BrokerCluster c = client.resources(BrokerCluster.class).inNamespace("shop").withName("orders").get();
        c.getSpec().storage.size = "5Gi";
        client.resource(c).update();
        BrokerCluster done = reconcile();
        var degraded = Conditions.get(done.getStatus().conditions, Conditions.DEGRADED);
        assertThat(degraded.getStatus()).isEqualTo("True");
        assertThat(degraded.getReason()).isEqualTo("StorageChangeRefused");
        assertThat(degraded.getMessage()).startsWith("spec.storage.size: is 5Gi, smaller than the brokers' volumes (10Gi)");
        assertThat(java.util.List.of(requested(0), requested(1), requested(2))).containsOnly("10Gi");

        c = client.resources(BrokerCluster.class).inNamespace("shop").withName("orders").get();
        c.getSpec().storage.size = "20Gi";
        c.getSpec().storage.storageClassName = "fast";
        client.resource(c).update();
        degraded = Conditions.get(reconcile().getStatus().conditions, Conditions.DEGRADED);
        assertThat(degraded.getMessage()).startsWith("spec.storage.storageClassName: is fast but the brokers' volumes are of class expandable");
        assertThat(java.util.List.of(requested(0), requested(1), requested(2))).containsOnly("10Gi");
        assertThat(sts().getSpec().getVolumeClaimTemplates().get(0).getSpec().getStorageClassName()).isNull();
    }

    @Test
    void aSecuredClusterGetsCasAndABrokerCertificateRenewedBeforeItExpiresWithoutRollingTheBrokers() throws Exception {
        BrokerClusterSpec.Certificates certificates = new BrokerClusterSpec.Certificates();
        certificates.validity = "10m";
        certificates.renewBefore = "4m";
        createSecured(certificates);
        reconcile();
        String ca = secretFile("orders-cluster-ca", "ca.crt");
        var caCert = io.capstan.certs.Pem.certificate(ca);
        var broker = io.capstan.certs.Pem.certificates(secretFile("orders-broker-certs", "broker.pem"));
        assertThat(broker).as("the broker's certificate and its CA").hasSize(2);
        broker.get(0).verify(caCert.getPublicKey());
        assertThat(broker.get(0).getSubjectX500Principal().getName()).isEqualTo("CN=orders-broker,O=capstan");
        assertThat(secretFile("orders-broker-certs", "cluster-ca.crt")).isEqualTo(ca);
        assertThat(secretFile("orders-cluster-ca-cert", "ca.crt")).as("the public bundle for clients").isEqualTo(ca);
        assertThat(secretFile("orders-cluster-ca-cert", "ca.key")).isNull();
        assertThat(io.capstan.certs.Pem.certificate(secretFile("orders-clients-ca", "ca.crt"))).isNotEqualTo(caCert);
        String template = sts().getMetadata().getAnnotations().get(DesiredResources.TEMPLATE_HASH);
        String adminToken = secretFile("orders-admin-token", "token");
        assertThat(adminToken).as("a random bearer token for the admin port's actions").hasSizeGreaterThan(40);

        now += java.time.Duration.ofMinutes(5).toMillis();
        reconcile();
        assertThat(io.capstan.certs.Pem.certificates(secretFile("orders-broker-certs", "broker.pem")).get(0))
                .as("5 minutes into 10, with renewal 4 minutes before the end: kept").isEqualTo(broker.get(0));

        now += java.time.Duration.ofMinutes(1).toMillis() + 1;
        reconcile();
        var renewed = io.capstan.certs.Pem.certificates(secretFile("orders-broker-certs", "broker.pem")).get(0);
        assertThat(renewed).as("renewed 4 minutes before the end").isNotEqualTo(broker.get(0));
        renewed.verify(caCert.getPublicKey());
        assertThat(renewed.getNotAfter().toInstant()).isEqualTo(java.time.Instant.ofEpochMilli(now / 1000 * 1000).plus(java.time.Duration.ofMinutes(10)));
        assertThat(secretFile("orders-cluster-ca", "ca.crt")).as("the CA lives on").isEqualTo(ca);
        assertThat(secretFile("orders-admin-token", "token")).as("the admin token is made once").isEqualTo(adminToken);
        assertThat(sts().getMetadata().getAnnotations().get(DesiredResources.TEMPLATE_HASH))
                .as("brokers reload certificates: no roll").isEqualTo(template);
    }

    private void userCa(String secret, io.capstan.certs.CertificateAuthority ca) {
        var files = ca.asIssued();
        client.resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata().withName(secret).withNamespace("shop").endMetadata()
                .withData(java.util.Map.of("ca.crt", base64(files.certificatePem()), "ca.key", base64(files.keyPem()))).build())
                .createOr(r -> r.update());
    }

    private static String base64(String s) {
        return java.util.Base64.getEncoder().encodeToString(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void aCaFromTheUsersSecretSignsTheBrokersAndReplacingItKeepsTheOldOneTrustedWhileCertificatesMove() throws Exception {
        java.time.Instant t0 = java.time.Instant.ofEpochMilli(now);
        var mine = io.capstan.certs.CertificateAuthority.create(new javax.security.auth.x500.X500Principal("CN=acme-ca"), t0, java.time.Duration.ofDays(365));
        userCa("acme-ca", mine);
        BrokerClusterSpec.Certificates certificates = new BrokerClusterSpec.Certificates();
        certificates.clusterCaSecret = "acme-ca";
        createSecured(certificates);
        reconcile();
        var broker = io.capstan.certs.Pem.certificate(secretFile("orders-broker-certs", "broker.pem"));
        broker.verify(mine.certificate().getPublicKey());
        assertThat(io.capstan.certs.Pem.certificates(secretFile("orders-cluster-ca-cert", "ca.crt"))).containsExactly(mine.certificate());

        now += 60_000;
        var replacement = io.capstan.certs.CertificateAuthority.create(new javax.security.auth.x500.X500Principal("CN=acme-ca-2"),
                java.time.Instant.ofEpochMilli(now), java.time.Duration.ofDays(365));
        userCa("acme-ca", replacement);
        reconcile();
        assertThat(io.capstan.certs.Pem.certificates(secretFile("orders-cluster-ca-cert", "ca.crt")))
                .as("both trusted during the switch").containsExactly(replacement.certificate(), mine.certificate());
        assertThat(io.capstan.certs.Pem.certificate(secretFile("orders-broker-certs", "broker.pem")))
                .as("brokers keep serving the old CA's certificate until peers trust the new one").isEqualTo(broker);

        now += io.capstan.operator.certs.CertificatePolicy.TRUST_PROPAGATION.toMillis();
        reconcile();
        io.capstan.certs.Pem.certificate(secretFile("orders-broker-certs", "broker.pem")).verify(replacement.certificate().getPublicKey());
        assertThat(io.capstan.certs.Pem.certificate(secretFile("acme-ca", "ca.crt"))).as("the user's Secret is left as given")
                .isEqualTo(replacement.certificate());
    }

    @Test
    void aMissingUserCaSecretFailsThePassNamingTheFieldAndStartsNoBroker() {
        BrokerClusterSpec.Certificates certificates = new BrokerClusterSpec.Certificates();
        certificates.clientsCaSecret = "nowhere";
        createSecured(certificates);
        BrokerCluster current = client.resources(BrokerCluster.class).inNamespace("shop").withName("orders").get();
        Exception failure = org.assertj.core.api.Assertions.catchException(() -> reconciler.reconcile(current));
        assertThat(failure).hasMessageContaining("spec.certificates.clientsCaSecret").hasMessageContaining("nowhere");
        var degraded = Conditions.get(reconciler.updateErrorStatus(current, null, failure).getResource().orElseThrow().getStatus().conditions,
                Conditions.DEGRADED);
        assertThat(degraded.getMessage()).contains("spec.certificates.clientsCaSecret");
        assertThat(sts()).as("nothing runs without its certificates").isNull();
    }

    @Test
    void eachPassCountsTheApiRequestsItMadeItself() {
        create(3, java.util.Map.of());
        reconcile();
        reconcile();
        var histogram = metrics.registry().scrape().stream()
                .filter(m -> m.getMetadata().getName().equals("capstan_operator_reconcile_api_calls")).findFirst().orElseThrow();
        var data = ((io.prometheus.metrics.model.snapshots.HistogramSnapshot) histogram).getDataPoints().get(0);
        assertThat(data.getCount()).isEqualTo(2);
        // a first pass creates every object; the second only reads and applies: both make requests, and they are counted
        assertThat(data.getSum()).isGreaterThan(2);
    }

    @Test
    void aPassThatFailsLeavesADegradedConditionNamingTheFailureInsteadOfAHealthyStatus() {
        create(3, java.util.Map.of());
        reconcile();
        BrokerCluster current = client.resources(BrokerCluster.class).inNamespace("shop").withName("orders").get();
        server.destroy(); // the API server goes away
        Exception failure = org.assertj.core.api.Assertions.catchException(() -> reconciler.reconcile(current));
        assertThat(failure).as("a pass against an unreachable API server fails").isNotNull();
        var control = reconciler.updateErrorStatus(current, null, failure);
        var degraded = Conditions.get(control.getResource().orElseThrow().getStatus().conditions, Conditions.DEGRADED);
        assertThat(degraded.getStatus()).isEqualTo("True");
        assertThat(degraded.getReason()).isEqualTo("ReconcileFailed");
        assertThat(degraded.getMessage()).contains("the last reconcile failed").contains("retries");
    }

    @Test
    void aRackAwareClustersBrokersLearnTheirZoneFromTheirNodeAndTheBindingGoesWithTheCluster() {
        BrokerCluster c = create(3, java.util.Map.of());
        c.getSpec().rack = new BrokerClusterSpec.Rack();
        c.getSpec().rack.topologyKey = "topology.kubernetes.io/zone";
        client.resource(c).update();
        reconcile();
        assertThat(client.configMaps().inNamespace("shop").withName("orders-config").get().getData().get("broker.properties"))
                .contains("broker.rack.node.label=topology.kubernetes.io/zone");
        assertThat(sts().getSpec().getTemplate().getSpec().getContainers().get(0).getEnv())
                .anySatisfy(e -> {
                    assertThat(e.getName()).isEqualTo("NODE_NAME");
                    assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("spec.nodeName");
                });
        var binding = client.rbac().clusterRoleBindings().withName("capstan-broker-nodes-shop-orders").get();
        assertThat(binding.getRoleRef().getName()).isEqualTo("capstan-broker-node-reader");
        assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
            assertThat(s.getName()).isEqualTo("orders-broker");
            assertThat(s.getNamespace()).isEqualTo("shop");
        });

        reconciler.cleanup(client.resources(BrokerCluster.class).inNamespace("shop").withName("orders").get(), null);
        assertThat(client.rbac().clusterRoleBindings().withName("capstan-broker-nodes-shop-orders").get()).isNull();
    }

    @Test
    void createsEverythingTheClusterNeedsAndReportsReadinessFromTheStatefulSet() {
        create(3, java.util.Map.of("min.insync.replicas", "2"));
        BrokerCluster after = reconcile();
        assertThat(sts().getSpec().getReplicas()).isEqualTo(3);
        assertThat(client.services().inNamespace("shop").list().getItems()).extracting(s -> s.getMetadata().getName())
                .containsExactlyInAnyOrder("orders", "orders-brokers");
        assertThat(client.configMaps().inNamespace("shop").withName("orders-config").get().getData().get("broker.properties"))
                .contains("min.insync.replicas=2");
        assertThat(client.policy().v1().podDisruptionBudget().inNamespace("shop").withName("orders").get()).isNotNull();
        assertThat(client.serviceAccounts().inNamespace("shop").withName("orders-broker").get()).isNotNull();
        assertThat(client.rbac().roles().inNamespace("shop").withName("orders-broker").get()).isNotNull();
        assertThat(client.rbac().roleBindings().inNamespace("shop").withName("orders-broker").get()).isNotNull();
        assertThat(Conditions.get(after.getStatus().conditions, Conditions.READY).getStatus()).isEqualTo("False");
        assertThat(Conditions.get(after.getStatus().conditions, Conditions.READY).getMessage()).isEqualTo("0 of 3 brokers ready");
        assertThat(after.getStatus().selector).contains("app.kubernetes.io/instance=orders");

        StatefulSet running = sts();
        running.setStatus(new StatefulSetStatusBuilder().withObservedGeneration(observed(running)).withReplicas(3).withReadyReplicas(3).withUpdatedReplicas(3).build());
        client.resource(running).updateStatus();
        BrokerCluster ready = reconcile();
        assertThat(Conditions.get(ready.getStatus().conditions, Conditions.READY).getStatus()).isEqualTo("True");
        assertThat(ready.getStatus().readyReplicas).isEqualTo(3);
        assertThat(ready.getStatus().currentVersion).isEqualTo("0.1.0");
        assertThat(ready.getStatus().lastStableSpec.replicas).isEqualTo(3);
    }

    @Test
    void aSecondReconcileChangesNothing() {
        create(3, java.util.Map.of());
        reconcile();
        StatefulSet first = sts();
        reconcile();
        StatefulSet second = sts();
        assertThat(second.getSpec()).isEqualTo(first.getSpec());
        assertThat(second.getMetadata().getGeneration()).isEqualTo(first.getMetadata().getGeneration());
    }

    @Test
    void anInvalidSpecIsReportedByFieldAndChangesNothingThatRuns() {
        create(3, java.util.Map.of());
        reconcile();
        BrokerCluster c = client.resources(BrokerCluster.class).inNamespace("shop").withName("orders").get();
        c.getSpec().replicas = 2;
        c.getSpec().config.put("log.flush.polcy", "always");
        client.resource(c).update();
        BrokerCluster after = reconcile();
        var degraded = Conditions.get(after.getStatus().conditions, Conditions.DEGRADED);
        assertThat(degraded.getStatus()).isEqualTo("True");
        assertThat(degraded.getReason()).isEqualTo("InvalidSpec");
        assertThat(degraded.getMessage()).contains("spec.config").contains("log.flush.polcy");
        assertThat(sts().getSpec().getReplicas()).as("the running cluster is left alone").isEqualTo(3);
        reconcile();
        assertThat(events).as("one Warning Event per new problem, not one per pass").filteredOn(e -> e.startsWith("Warning InvalidSpec"))
                .hasSize(1);
    }

    @Test
    void aPausedClusterIsLeftAlone() {
        create(3, java.util.Map.of());
        reconcile();
        BrokerCluster c = client.resources(BrokerCluster.class).inNamespace("shop").withName("orders").get();
        c.getMetadata().setAnnotations(java.util.Map.of(BrokerClusterReconciler.PAUSED_ANNOTATION, "true"));
        c.getSpec().replicas = 5;
        client.resource(c).update();
        BrokerCluster after = reconcile();
        assertThat(Conditions.get(after.getStatus().conditions, Conditions.PAUSED).getStatus()).isEqualTo("True");
        assertThat(sts().getSpec().getReplicas()).isEqualTo(3);
    }

    private void pod(int ordinal, String revision, boolean ready) {
        var labels = new java.util.HashMap<>(io.capstan.operator.resources.Labels.selector("orders"));
        labels.put("controller-revision-hash", revision);
        client.pods().inNamespace("shop").resource(new io.fabric8.kubernetes.api.model.PodBuilder()
                .withNewMetadata().withName("orders-" + ordinal).withNamespace("shop").withLabels(labels).endMetadata()
                .withNewStatus().addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition().endStatus()
                .build()).create();
    }

    private java.util.List<String> podNames() {
        return client.pods().inNamespace("shop").list().getItems().stream().map(p -> p.getMetadata().getName()).sorted().toList();
    }

    @Test
    void aNewTemplateRollsOutOneSafeBrokerAtATimeHighestFirst() {
        create(3, java.util.Map.of());
        reconcile();
        for (int i = 0; i < 3; i++) {
            pod(i, "rev-1", true);
        }
        // the mock server drops the status when the operator updates the StatefulSet; the real StatefulSet controller keeps it
        Runnable controllerStatus = () -> {
            StatefulSet running = sts();
            running.setStatus(new StatefulSetStatusBuilder().withObservedGeneration(observed(running)).withReplicas(3).withReadyReplicas(3).withUpdateRevision("rev-2").build());
            client.resource(running).updateStatus();
        };
        controllerStatus.run();

        safety = new io.capstan.operator.rollout.RollingRestart.Safety(false, "orders-0 would drop to 1 in-sync replica(s)");
        BrokerCluster waiting = reconcile();
        assertThat(podNames()).as("nothing restarts while the broker says it is unsafe").containsExactly("orders-0", "orders-1", "orders-2");
        assertThat(Conditions.get(waiting.getStatus().conditions, Conditions.PROGRESSING).getMessage())
                .isEqualTo("broker 2 is not safe to restart: orders-0 would drop to 1 in-sync replica(s)");

        safety = io.capstan.operator.rollout.RollingRestart.Safety.SAFE;
        controllerStatus.run();
        BrokerCluster rolling = reconcile();
        assertThat(podNames()).as("the highest ordinal goes first").containsExactly("orders-0", "orders-1");
        assertThat(events).contains("Normal RestartingBroker: restarting orders-2 onto revision rev-2 (it reported it is safe to restart)");
        assertThat(rolling.getStatus().rollout.message).isEqualTo("restarting broker 2");

        pod(2, "rev-2", false); // recreated by the StatefulSet controller, still starting
        controllerStatus.run();
        reconcile();
        assertThat(podNames()).as("one at a time: wait for the restarted broker").hasSize(3);
        client.pods().inNamespace("shop").withName("orders-2").delete();
        pod(2, "rev-2", true);
        controllerStatus.run();
        reconcile();
        assertThat(podNames()).containsExactly("orders-0", "orders-2");
    }

    @Test
    void theClusterVersionIsRaisedOnlyOnceEveryBrokerIsReadyOnTheCurrentTemplateAndOnlyAsFarAsThePinThenTheBrokersRestart() {
        clusterVersion = new io.capstan.operator.version.ClusterVersionPlan.Observed(1, 2); // upgraded brokers, not finalized yet
        BrokerCluster c = new BrokerCluster();
        c.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace("shop").build());
        c.setSpec(new BrokerClusterSpec());
        c.getSpec().version = "0.2.0";
        c.getSpec().clusterVersion = "1"; // pinned while the upgrade may still be rolled back
        client.resource(c).create();
        reconcile();
        for (int i = 0; i < 3; i++) {
            pod(i, "rev-1", i != 1);
        }
        Runnable controllerStatus = () -> {
            StatefulSet running = sts();
            running.setStatus(new StatefulSetStatusBuilder().withObservedGeneration(observed(running)).withReplicas(3)
                    .withReadyReplicas((int) client.pods().inNamespace("shop").list().getItems().stream()
                            .filter(p -> p.getStatus().getConditions().get(0).getStatus().equals("True")).count())
                    .withUpdateRevision("rev-1").build());
            client.resource(running).updateStatus();
        };
        controllerStatus.run();
        BrokerCluster pinned = reconcile();
        assertThat(finalizedAt).as("pinned at the finalized level").isEmpty();
        assertThat(pinned.getStatus().clusterVersion.finalized).isEqualTo(1);
        assertThat(pinned.getStatus().clusterVersion.supportedByAllBrokers).isEqualTo(2);

        c = client.resources(BrokerCluster.class).inNamespace("shop").withName("orders").get();
        c.getSpec().clusterVersion = "auto";
        client.resource(c).update();
        BrokerCluster waiting = reconcile();
        assertThat(finalizedAt).as("broker 1 is not ready: never raised during a rollout or a restart").isEmpty();
        assertThat(waiting.getStatus().clusterVersion.message).isEqualTo("raising capstan.version from 1 to 2 once the rollout has"
                + " completed with every broker ready");
        assertThat(sts().getSpec().getTemplate().getMetadata().getAnnotations()).doesNotContainKey(DesiredResources.CLUSTER_VERSION);

        client.pods().inNamespace("shop").withName("orders-1").delete();
        pod(1, "rev-1", true);
        controllerStatus.run();
        BrokerCluster raised = reconcile();
        assertThat(finalizedAt).containsExactly(2);
        assertThat(raised.getStatus().clusterVersion.finalized).isEqualTo(2);
        assertThat(raised.getStatus().clusterVersion.restartedFor).isEqualTo(2);
        assertThat(events).contains("Normal ClusterVersionRaised: capstan.version raised from 1 to 2; restarting the brokers one at a time to use it");

        reconcile();
        assertThat(sts().getSpec().getTemplate().getMetadata().getAnnotations()).as("the brokers roll onto a template naming the level")
                .containsEntry(DesiredResources.CLUSTER_VERSION, "2");
        assertThat(finalizedAt).as("raised once").containsExactly(2);
    }

    /** A stable 3-broker cluster on revision rev-1, then a new version with the given canary steps (rev-2). */
    private Runnable stableThenUpgrade(java.util.List<BrokerClusterSpec.Step> steps, BrokerClusterSpec.Analysis analysis) {
        brokersAndShards(3, 3, 3);
        create(3, java.util.Map.of());
        reconcile();
        for (int i = 0; i < 3; i++) {
            pod(i, "rev-1", true);
        }
        String[] revision = {"rev-1"};
        Runnable controllerStatus = () -> {
            StatefulSet running = sts();
            running.setStatus(new StatefulSetStatusBuilder().withObservedGeneration(observed(running)).withReplicas(3).withReadyReplicas(3).withUpdateRevision(revision[0]).build());
            client.resource(running).updateStatus();
        };
        controllerStatus.run();
        BrokerCluster stable = reconcile();
        assertThat(stable.getStatus().lastStableSpec.version).isEqualTo("0.1.0");
        BrokerCluster c = client.resources(BrokerCluster.class).inNamespace("shop").withName("orders").get();
        c.getSpec().version = "0.2.0";
        c.getSpec().rollout.canary = new BrokerClusterSpec.Canary();
        c.getSpec().rollout.canary.steps.addAll(steps);
        c.getSpec().rollout.canary.analysis = analysis;
        client.resource(c).update();
        // the pass that applies the new template: it observed the old StatefulSet, so it decides nothing yet
        BrokerCluster applying = reconcile();
        assertThat(podNames()).as("nothing restarts before the StatefulSet has the new template").hasSize(3);
        assertThat(applying.getStatus().lastStableSpec.version).isEqualTo("0.1.0");
        revision[0] = "rev-2";
        return controllerStatus;
    }

    private void restarted(int ordinal) {
        pod(ordinal, "rev-2", true);
    }

    /** Found by the Kubernetes canary scenario: the pass that applies a new spec still observes the old StatefulSet. */
    @Test
    void aNewSpecIsNotRecordedAsStableBeforeTheStatefulSetRunsIt() {
        stableThenUpgrade(java.util.List.of(), new BrokerClusterSpec.Analysis());
        // all three pods ready on the old revision, and the StatefulSet's status still the old one
        BrokerCluster applying = reconcile();
        assertThat(applying.getStatus().lastStableSpec.version).as("the last stable spec is still the old one").isEqualTo("0.1.0");
        assertThat(applying.getStatus().currentVersion).isEqualTo("0.1.0");
        assertThat(Conditions.get(applying.getStatus().conditions, Conditions.PROGRESSING).getStatus()).isEqualTo("True");
    }

    @Test
    void aCanaryUpdatesOneBrokerThenWaitsForApproval() {
        BrokerClusterSpec.Step one = new BrokerClusterSpec.Step();
        one.replicas = 1;
        BrokerClusterSpec.Step hold = new BrokerClusterSpec.Step();
        hold.pause = new BrokerClusterSpec.Pause();
        Runnable controllerStatus = stableThenUpgrade(java.util.List.of(one, hold), new BrokerClusterSpec.Analysis());
        controllerStatus.run();
        BrokerCluster canary = reconcile();
        assertThat(podNames()).containsExactly("orders-0", "orders-1");
        assertThat(canary.getStatus().rollout.phase).isEqualTo(io.capstan.operator.api.BrokerClusterStatus.Phase.Canary);
        restarted(2);
        controllerStatus.run();
        BrokerCluster paused = reconcile();
        assertThat(podNames()).as("the canary step holds").containsExactly("orders-0", "orders-1", "orders-2");
        assertThat(paused.getStatus().rollout.phase).isEqualTo(io.capstan.operator.api.BrokerClusterStatus.Phase.Paused);
        assertThat(paused.getStatus().rollout.message).isEqualTo("step 2: paused until spec.rollout.approve is set to 2 or 0.2.0");
        assertThat(exposition()).as("the operator's metrics say where the rollout stands")
                .contains("capstan_operator_rollout_phase{cluster=\"orders\",namespace=\"shop\",phase=\"Paused\"} 1.0")
                .doesNotContain("phase=\"Canary\"")
                .contains("capstan_operator_canary_step{cluster=\"orders\",namespace=\"shop\"} " + paused.getStatus().rollout.step + ".0");
        controllerStatus.run();
        reconcile();
        assertThat(podNames()).as("still held without approval").hasSize(3);

        BrokerCluster c = client.resources(BrokerCluster.class).inNamespace("shop").withName("orders").get();
        c.getSpec().rollout.approve = "2";
        client.resource(c).update();
        controllerStatus.run();
        BrokerCluster promoting = reconcile();
        assertThat(promoting.getStatus().rollout.phase).isEqualTo(io.capstan.operator.api.BrokerClusterStatus.Phase.Promoting);
        assertThat(exposition()).contains("capstan_operator_rollout_phase{cluster=\"orders\",namespace=\"shop\",phase=\"Promoting\"} 1.0");
        for (String step : java.util.List.of("observe", "plan", "certificates", "apply", "volumes", "node_loss", "rollout", "status")) {
            assertThat(exposition()).as("each pass times its " + step + " step").containsPattern(
                    "capstan_operator_reconcile_step_seconds_count\\{step=\"" + step + "\"\\} [1-9]");
        }
        assertThat(podNames()).as("approved: the rest follow, highest first").containsExactly("orders-0", "orders-2");
    }

    @Test
    void aCanaryThatLeavesShardsUnderReplicatedIsRolledBack() {
        BrokerClusterSpec.Step one = new BrokerClusterSpec.Step();
        one.replicas = 1;
        BrokerClusterSpec.Step hold = new BrokerClusterSpec.Step();
        hold.pause = new BrokerClusterSpec.Pause();
        BrokerClusterSpec.Analysis analysis = new BrokerClusterSpec.Analysis();
        analysis.failureThreshold = 2;
        Runnable controllerStatus = stableThenUpgrade(java.util.List.of(one, hold), analysis);
        controllerStatus.run();
        reconcile();
        restarted(2);
        underReplicated = 1;
        controllerStatus.run();
        now += 10_000; // one analysis check per interval (10 s by default)
        reconcile();
        controllerStatus.run();
        BrokerCluster early = reconcile();
        assertThat(early.getStatus().rollout.phase).as("a second pass within the interval is no second check")
                .isNotEqualTo(io.capstan.operator.api.BrokerClusterStatus.Phase.RolledBack);
        controllerStatus.run();
        now += 10_000;
        BrokerCluster rolledBack = reconcile();
        assertThat(rolledBack.getStatus().rollout.phase).isEqualTo(io.capstan.operator.api.BrokerClusterStatus.Phase.RolledBack);
        assertThat(Conditions.get(rolledBack.getStatus().conditions, Conditions.DEGRADED).getReason()).isEqualTo("CanaryRolledBack");
        controllerStatus.run();
        BrokerCluster after = reconcile();
        assertThat(sts().getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
                .as("the last stable spec runs again").isEqualTo("capstan/broker:0.1.0");
        assertThat(after.getStatus().rollout.phase).isEqualTo(io.capstan.operator.api.BrokerClusterStatus.Phase.RolledBack);
        assertThat(Conditions.get(after.getStatus().conditions, Conditions.DEGRADED).getReason())
                .as("the reason stays until the spec changes").isEqualTo("CanaryRolledBack");
        assertThat(Conditions.get(after.getStatus().conditions, Conditions.DEGRADED).getMessage()).contains("under-replicated");
    }

    private void brokersAndShards(int brokers, int partitions, int factor) {
        for (int b = 0; b < brokers; b++) {
            alive.add(new io.capstan.cluster.planner.AssignmentPlanner.Broker(b, ""));
        }
        for (int p = 0; p < partitions; p++) {
            java.util.List<Integer> replicas = new java.util.ArrayList<>();
            for (int r = 0; r < factor; r++) {
                replicas.add((p + r) % brokers);
            }
            shardStates.put("t-" + p, new io.capstan.cluster.metadata.ShardState("t", p, replicas, replicas.get(0), 0, replicas));
        }
    }

    private BrokerCluster resize(int replicas) {
        BrokerCluster c = client.resources(BrokerCluster.class).inNamespace("shop").withName("orders").get();
        c.getSpec().replicas = replicas;
        client.resource(c).update();
        return reconcile();
    }

    @Test
    void scaleInDrainsShardsOffTheLeavingBrokersBeforeTheStatefulSetShrinks() {
        brokersAndShards(3, 6, 2);
        create(3, java.util.Map.of());
        reconcile();
        BrokerCluster draining = resize(2);
        assertThat(sts().getSpec().getReplicas()).as("the StatefulSet keeps broker 2 while its shards move").isEqualTo(3);
        assertThat(shardStates.values()).allMatch(s -> !s.replicas().contains(2));
        assertThat(Conditions.get(draining.getStatus().conditions, Conditions.DEGRADED).getStatus()).isEqualTo("False");
        reconcile();
        assertThat(sts().getSpec().getReplicas()).as("drained: now it shrinks").isEqualTo(2);
    }

    @Test
    void scaleInBelowAReplicationFactorIsRefusedByField() {
        brokersAndShards(3, 3, 3);
        create(3, java.util.Map.of());
        reconcile();
        BrokerCluster refused = resize(2);
        var degraded = Conditions.get(refused.getStatus().conditions, Conditions.DEGRADED);
        assertThat(degraded.getReason()).isEqualTo("ScaleInRefused");
        assertThat(degraded.getMessage()).startsWith("spec.replicas=2 cannot hold the 3 replicas of topic t");
        assertThat(sts().getSpec().getReplicas()).isEqualTo(3);
        assertThat(shardStates.values()).allMatch(s -> s.replicas().size() == 3);
    }

    @Test
    void scaleOutGivesTheNewBrokersReplicasOnceTheyRegister() {
        brokersAndShards(3, 6, 3);
        create(3, java.util.Map.of());
        BrokerCluster settled = reconcile();
        assertThat(settled.getStatus().shards.balancedFor).isEqualTo(3);
        BrokerCluster growing = resize(5);
        assertThat(sts().getSpec().getReplicas()).isEqualTo(5);
        assertThat(shardStates.values()).as("nothing moves before the new brokers exist").allMatch(s -> s.replicas().stream().allMatch(r -> r < 3));
        alive.add(new io.capstan.cluster.planner.AssignmentPlanner.Broker(3, ""));
        alive.add(new io.capstan.cluster.planner.AssignmentPlanner.Broker(4, ""));
        reconcile();
        java.util.Map<Integer, Integer> load = new java.util.HashMap<>();
        shardStates.values().forEach(s -> s.replicas().forEach(r -> load.merge(r, 1, Integer::sum)));
        assertThat(load.keySet()).containsExactlyInAnyOrder(0, 1, 2, 3, 4);
        assertThat(java.util.Collections.max(load.values()) - java.util.Collections.min(load.values())).isLessThanOrEqualTo(1);
        assertThat(reconcile().getStatus().shards.balancedFor).isEqualTo(5);
    }

    @Test
    void aServiceMonitorIsCreatedOnlyWhenAskedForAndItsCrdExists() {
        create(3, java.util.Map.of());
        BrokerCluster c = client.resources(BrokerCluster.class).inNamespace("shop").withName("orders").get();
        c.getSpec().metrics.serviceMonitor = true;
        client.resource(c).update();
        reconcile();
        var context = new io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext.Builder().withGroup("monitoring.coreos.com")
                .withVersion("v1").withKind("ServiceMonitor").withPlural("servicemonitors").withNamespaced(true).build();
        assertThat(client.genericKubernetesResources(context).inNamespace("shop").list().getItems()).as("no CRD, no ServiceMonitor").isEmpty();
        client.apiextensions().v1().customResourceDefinitions().resource(new io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder()
                .withNewMetadata().withName("servicemonitors.monitoring.coreos.com").endMetadata()
                .withNewSpec().withGroup("monitoring.coreos.com").withScope("Namespaced")
                .withNewNames().withKind("ServiceMonitor").withPlural("servicemonitors").endNames()
                .addNewVersion().withName("v1").withServed(true).withStorage(true).endVersion().endSpec().build()).create();
        reconcile();
        assertThat(client.genericKubernetesResources(context).inNamespace("shop").withName("orders").get()).isNotNull();
    }

    /**
     * Type tlsroute: without Gateway API's TLSRoute CRD the cluster is Degraded naming it and the listener has no
     * bootstrap address; once it is installed, a route per broker and one for the bootstrap. Switched to type ingress,
     * the routes go and Ingresses come.
     */
    @Test
    void tlsRoutesAreWrittenOnlyWhereTheirCrdServesV1AndGoWhenTheListenerChangesType() {
        create(2, java.util.Map.of());
        BrokerCluster c = client.resources(BrokerCluster.class).inNamespace("shop").withName("orders").get();
        c.getSpec().listeners = new java.util.ArrayList<>(java.util.List.of(
                PassthroughListenersTest.passthrough("gw", 9097, "tlsroute", "gw.example.com", "b{id}.gw.example.com")));
        client.resource(c).update();
        BrokerCluster done = reconcile();
        assertThat(done.getStatus().conditions).anySatisfy(cond -> {
            assertThat(cond.getType()).isEqualTo(Conditions.DEGRADED);
            assertThat(cond.getReason()).isEqualTo("TLSRouteUnavailable");
            assertThat(cond.getMessage()).contains("tlsroutes.gateway.networking.k8s.io").contains("install Gateway API v1.5 or later");
        });
        assertThat(done.getStatus().listeners).singleElement().satisfies(l -> {
            assertThat(l.bootstrapServers).isNull();
            assertThat(l.message).contains("is not installed");
        });
        var context = new io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext.Builder().withGroup("gateway.networking.k8s.io")
                .withVersion("v1").withKind("TLSRoute").withPlural("tlsroutes").withNamespaced(true).build();

        client.apiextensions().v1().customResourceDefinitions().resource(new io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder()
                .withNewMetadata().withName("tlsroutes.gateway.networking.k8s.io").endMetadata()
                .withNewSpec().withGroup("gateway.networking.k8s.io").withScope("Namespaced")
                .withNewNames().withKind("TLSRoute").withPlural("tlsroutes").endNames()
                .addNewVersion().withName("v1").withServed(true).withStorage(true).endVersion().endSpec().build()).create();
        done = reconcile();
        assertThat(client.genericKubernetesResources(context).inNamespace("shop").list().getItems()).extracting(r -> r.getMetadata().getName())
                .containsExactlyInAnyOrder("orders-gw-bootstrap", "orders-0-gw", "orders-1-gw");
        assertThat(done.getStatus().listeners).singleElement().satisfies(l -> assertThat(l.bootstrapServers).isEqualTo("gw.example.com:443"));
        assertThat(done.getStatus().conditions).noneMatch(cond -> cond.getType().equals(Conditions.DEGRADED) && cond.getStatus().equals("True"));

        c = client.resources(BrokerCluster.class).inNamespace("shop").withName("orders").get();
        var ingress = PassthroughListenersTest.passthrough("gw", 9097, "ingress", "gw.example.com", "b{id}.gw.example.com");
        c.getSpec().listeners = new java.util.ArrayList<>(java.util.List.of(ingress));
        client.resource(c).update();
        reconcile();
        assertThat(client.genericKubernetesResources(context).inNamespace("shop").list().getItems()).isEmpty();
        assertThat(client.network().v1().ingresses().inNamespace("shop").list().getItems()).extracting(r -> r.getMetadata().getName())
                .containsExactlyInAnyOrder("orders-gw-bootstrap", "orders-0-gw", "orders-1-gw");
    }

    @Test
    void eachPassIsTracedWithItsStepsInOrderAndItsOutcome() {
        var exporter = io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter.create();
        try (io.capstan.operator.reconcile.PassTracer tracer = io.capstan.operator.reconcile.PassTracer.exportingTo(exporter)) {
            reconciler.withTracing(tracer);
            create(3, java.util.Map.of());
            reconcile();
            tracer.flush();
            var spans = exporter.getFinishedSpanItems();
            var passes = spans.stream().filter(s -> s.getName().equals("reconcile BrokerCluster")).toList();
            assertThat(passes).hasSize(1);
            var pass = passes.get(0);
            assertThat(pass.getParentSpanContext().isValid()).as("a root").isFalse();
            assertThat(pass.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey("k8s.namespace.name"))).isEqualTo("shop");
            assertThat(pass.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey("capstan.cluster"))).isEqualTo("orders");
            assertThat(pass.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey("capstan.outcome"))).isEqualTo("ok");
            assertThat(pass.getAttributes().get(io.opentelemetry.api.common.AttributeKey.longKey("capstan.api_calls"))).isPositive();
            assertThat(pass.getResource().getAttribute(io.opentelemetry.api.common.AttributeKey.stringKey("service.name"))).isEqualTo("capstan-operator");
            var steps = spans.stream().filter(s -> s.getParentSpanId().equals(pass.getSpanId())).toList();
            assertThat(steps).extracting(io.opentelemetry.sdk.trace.data.SpanData::getName)
                    .containsExactly("observe", "plan", "certificates", "apply", "volumes", "node_loss", "rollout", "status");
            long previousEnd = pass.getStartEpochNanos();
            for (var step : steps) {
                assertThat(step.getTraceId()).isEqualTo(pass.getTraceId());
                assertThat(step.getStartEpochNanos()).as("%s follows the step before it", step.getName()).isGreaterThanOrEqualTo(previousEnd);
                assertThat(step.getEndEpochNanos()).as("%s ends within the pass", step.getName())
                        .isBetween(step.getStartEpochNanos(), pass.getEndEpochNanos());
                previousEnd = step.getEndEpochNanos();
            }

            // a pass that fails (here its observation) is traced as failed
            exporter.reset();
            BrokerCluster current = client.resources(BrokerCluster.class).inNamespace("shop").withName("orders").get();
            org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> reconciler.reconcile(current, cluster -> {
                throw new IllegalStateException("the API server did not answer");
            }));
            tracer.flush();
            var failed = exporter.getFinishedSpanItems().stream().filter(s -> s.getName().equals("reconcile BrokerCluster")).toList();
            assertThat(failed).hasSize(1);
            assertThat(failed.get(0).getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey("capstan.outcome"))).isEqualTo("error");
            assertThat(failed.get(0).getStatus().getStatusCode()).isEqualTo(io.opentelemetry.api.trace.StatusCode.ERROR);
        }
    }
}
