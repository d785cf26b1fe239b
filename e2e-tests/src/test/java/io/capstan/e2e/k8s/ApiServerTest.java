package io.capstan.e2e.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.reconcile.BrokerClusterReconciler;
import io.capstan.operator.reconcile.Conditions;
import io.capstan.operator.reconcile.ResourceWriter;
import io.capstan.operator.rollout.RollingRestart;
import io.capstan.operator.shards.ClusterMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CRD and the operator's writes against a real kube-apiserver and etcd (built from the Go modules): schema and CEL
 * validation with the field named, defaults, the scale subresource, server-side apply of everything a cluster owns,
 * and a second reconcile that changes nothing. Pods, the scheduler and the controller manager are not part of this yet.
 */
@org.junit.jupiter.api.Tag(ControlPlane.TAG)
class ApiServerTest {
    static ControlPlane controlPlane;
    static KubernetesClient client;

    @BeforeAll
    static void start() throws Exception {
        ControlPlane.assumeBuilt(false);
        controlPlane = ControlPlane.start(Path.of("target", "k8s-" + System.nanoTime()).toAbsolutePath());
        client = controlPlane.adminClient();
        ControlPlane.installCrd(client, "shop");
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

    static BrokerCluster example(String file) throws Exception {
        BrokerCluster c = Serialization.unmarshal(Files.readString(Path.of("..", "manifests", "examples", file)), BrokerCluster.class);
        c.getMetadata().setNamespace("shop");
        return c;
    }

    static String rejection(BrokerCluster c) {
        try {
            client.resource(c).create();
        } catch (KubernetesClientException e) {
            assertThat(e.getCode()).isEqualTo(422);
            return e.getMessage();
        }
        throw new AssertionError("the API server accepted an invalid BrokerCluster");
    }

    @Test
    void theSchemaRejectsInvalidClustersNamingTheField() throws Exception {
        BrokerCluster zero = example("minimal.yaml");
        zero.getMetadata().setName("zero");
        zero.getSpec().replicas = 0;
        assertThat(rejection(zero)).contains("spec.replicas");

        BrokerCluster banana = example("minimal.yaml");
        banana.getMetadata().setName("banana");
        banana.getSpec().version = "banana";
        assertThat(rejection(banana)).contains("spec.version");

        BrokerCluster latest = example("minimal.yaml");
        latest.getMetadata().setName("latest");
        latest.getSpec().clusterVersion = "latest";
        assertThat(rejection(latest)).contains("spec.clusterVersion");

        BrokerCluster both = example("canary.yaml");
        both.getMetadata().setName("both");
        both.getSpec().rollout.canary.steps.get(0).pause = new io.capstan.operator.api.BrokerClusterSpec.Pause();
        assertThat(rejection(both)).contains("spec.rollout.canary.steps[0]").contains("a canary step sets either replicas or pause");
    }

    /** The external-access example is accepted; each rule of its ingress and tlsroute listeners refuses what breaks it. */
    @Test
    void passthroughListenersNeedTlsHostsWithAnIdAndAGatewayOnlyForTlsRoutes() throws Exception {
        BrokerCluster accepted = example("external.yaml");
        accepted.getMetadata().setName("external-ok");
        client.resource(accepted).create();

        BrokerCluster plain = example("external.yaml");
        plain.getMetadata().setName("plain-ingress");
        plain.getSpec().listeners.get(3).tls = false;
        plain.getSpec().listeners.get(3).authentication = "none";
        assertThat(rejection(plain)).contains("spec.listeners[3]").contains("they need tls: true and hosts");

        BrokerCluster noId = example("external.yaml");
        noId.getMetadata().setName("no-id");
        noId.getSpec().listeners.get(3).hosts.broker = "broker.kafka.example.com";
        assertThat(rejection(noId)).contains("spec.listeners[3].hosts.broker").contains("[{]id[}]");

        BrokerCluster gatewayless = example("external.yaml");
        gatewayless.getMetadata().setName("gatewayless");
        gatewayless.getSpec().listeners.get(4).gateway = null;
        assertThat(rejection(gatewayless)).contains("spec.listeners[4]").contains("type tlsroute needs gateway");

        BrokerCluster hostsOnNodePort = example("external.yaml");
        hostsOnNodePort.getMetadata().setName("hosts-on-nodeport");
        hostsOnNodePort.getSpec().listeners.get(1).hosts = hostsOnNodePort.getSpec().listeners.get(3).hosts;
        assertThat(rejection(hostsOnNodePort)).contains("spec.listeners[1]").contains("hosts is for type ingress and tlsroute");
    }

    @Test
    void theCapstanUserSchemaRejectsInvalidUsersNamingTheFieldAndFillsDefaults() throws Exception {
        String example = Files.readString(Path.of("..", "manifests", "examples", "secure.yaml")).split("(?m)^---\\s*$")[1];
        java.util.function.Function<java.util.function.Consumer<io.capstan.operator.api.CapstanUser>, String> create = change -> {
            io.capstan.operator.api.CapstanUser u = Serialization.unmarshal(example, io.capstan.operator.api.CapstanUser.class);
            u.getMetadata().setNamespace("shop");
            change.accept(u);
            try {
                client.resource(u).create();
                return null;
            } catch (KubernetesClientException e) {
                assertThat(e.getCode()).isEqualTo(422);
                return e.getMessage();
            }
        };
        assertThat(create.apply(u -> {
            u.getMetadata().setName("kerberos");
            u.getSpec().authentication.type = "kerberos";
        })).contains("spec.authentication.type");
        assertThat(create.apply(u -> {
            u.getMetadata().setName("certificate-with-password");
            u.getSpec().authentication.type = "tls";
            u.getSpec().authentication.password = new io.capstan.operator.api.CapstanUserSpec.Password();
            u.getSpec().authentication.password.secretKeyRef = new io.capstan.operator.api.CapstanUserSpec.SecretKeyRef();
            u.getSpec().authentication.password.secretKeyRef.name = "x";
            u.getSpec().authentication.password.secretKeyRef.key = "y";
        })).contains("password is for scram-sha-512 users only");
        assertThat(create.apply(u -> {
            u.getMetadata().setName("nameless-topic");
            u.getSpec().acls.get(0).resource.name = null;
        })).contains("name is required for topic, group and transactionalId");
        assertThat(create.apply(u -> {
            u.getMetadata().setName("flying");
            u.getSpec().acls.get(0).operations = java.util.List.of("Fly");
        })).contains("spec.acls[0].operations[0]");
        assertThat(create.apply(u -> u.getMetadata().setName("good"))).isNull();
        var good = client.resources(io.capstan.operator.api.CapstanUser.class).inNamespace("shop").withName("good").get();
        assertThat(good.getSpec().acls.get(0).host).as("schema default").isEqualTo("*");
        assertThat(good.getSpec().acls.get(0).type).isEqualTo("allow");
        assertThat(good.getSpec().acls.get(0).resource.patternType).isEqualTo("literal");
    }

    @Test
    void examplesAreAcceptedWithDefaultsAndTheScaleSubresourceWorks() throws Exception {
        for (String file : new String[] {"minimal.yaml", "production.yaml", "canary.yaml"}) {
            client.resource(example(file)).create();
        }
        BrokerCluster minimal = client.resources(BrokerCluster.class).inNamespace("shop").withName("minimal").get();
        assertThat(minimal.getSpec().storage.size).as("schema default").isEqualTo("10Gi");
        client.resources(BrokerCluster.class).inNamespace("shop").withName("minimal").scale(5);
        assertThat(client.resources(BrokerCluster.class).inNamespace("shop").withName("minimal").get().getSpec().replicas).isEqualTo(5);
    }

    @Test
    void theReconcilerAppliesEverythingWithServerSideApplyAndASecondPassChangesNothing() throws Exception {
        BrokerCluster orders = example("production.yaml");
        orders.getMetadata().setName("ssa");
        client.resource(orders).create();
        BrokerClusterReconciler reconciler = new BrokerClusterReconciler(client, ResourceWriter.serverSideApply(client),
                pod -> RollingRestart.Safety.SAFE, ClusterMetadata.kubernetes(client, new io.capstan.operator.shards.ClusterControllers(client, 1000)), null, System::currentTimeMillis);
        BrokerCluster first = reconciler.reconcile(client.resources(BrokerCluster.class).inNamespace("shop").withName("ssa").get());
        client.resource(first).updateStatus();
        var sts = client.apps().statefulSets().inNamespace("shop").withName("ssa").get();
        assertThat(sts.getSpec().getReplicas()).isEqualTo(6);
        assertThat(sts.getMetadata().getManagedFields()).anySatisfy(f -> {
            assertThat(f.getManager()).isEqualTo(ResourceWriter.FIELD_MANAGER);
            assertThat(f.getOperation()).isEqualTo("Apply");
        });
        assertThat(client.rbac().roles().inNamespace("shop").withName("ssa-broker").get()).isNotNull();
        assertThat(client.policy().v1().podDisruptionBudget().inNamespace("shop").withName("ssa").get()).isNotNull();
        assertThat(Conditions.get(first.getStatus().conditions, Conditions.READY).getMessage()).isEqualTo("0 of 6 brokers ready");

        String version = sts.getMetadata().getResourceVersion();
        reconciler.reconcile(client.resources(BrokerCluster.class).inNamespace("shop").withName("ssa").get());
        assertThat(client.apps().statefulSets().inNamespace("shop").withName("ssa").get().getMetadata().getResourceVersion())
                .as("an identical apply is a no-op on a real API server").isEqualTo(version);
    }

    /**
     * The operator's writes under the permissions its chart grants, nothing more: the ServiceAccount and RBAC objects
     * from manifests/install.yaml applied, then a full reconcile as that ServiceAccount (impersonated). A rule missing
     * from the chart fails here with 403, as it would in a real installation.
     */
    @Test
    void theChartsRbacIsEnoughForTheOperator() throws Exception {
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("capstan-system").endMetadata().build()).create();
        try (var manifests = Files.newInputStream(Path.of("..", "manifests", "install.yaml"))) {
            for (var item : client.load(manifests).items()) {
                String kind = item.getKind();
                if (kind.equals("ServiceAccount") || kind.equals("ClusterRole") || kind.equals("ClusterRoleBinding")
                        || kind.equals("Role") || kind.equals("RoleBinding")) {
                    // server-side apply: the node-reader ClusterRole may exist already (the namespaced install's test)
                    client.resource(item).forceConflicts().serverSideApply();
                }
            }
        }
        var asOperator = new io.fabric8.kubernetes.client.ConfigBuilder(controlPlane.adminConfig())
                .withImpersonateUsername("system:serviceaccount:capstan-system:capstan-operator").build();
        try (KubernetesClient operator = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(asOperator).build()) {
            assertThatThrownBy(() -> operator.namespaces().list()).as("least privilege: no namespace listing")
                    .isInstanceOf(KubernetesClientException.class).hasMessageContaining("forbidden");
            BrokerCluster rbac = example("production.yaml");
            rbac.getMetadata().setName("rbac");
            assertThat(rbac.getSpec().rack).as("a rack-aware cluster needs the node-reader binding too").isNotNull();
            client.resource(rbac).create();
            BrokerClusterReconciler reconciler = new BrokerClusterReconciler(operator, ResourceWriter.serverSideApply(operator),
                    pod -> RollingRestart.Safety.SAFE, ClusterMetadata.kubernetes(operator, new io.capstan.operator.shards.ClusterControllers(operator, 1000)), null, System::currentTimeMillis);
            BrokerCluster done = reconciler.reconcile(operator.resources(BrokerCluster.class).inNamespace("shop").withName("rbac").get());
            operator.resource(done).updateStatus();
            assertThat(client.apps().statefulSets().inNamespace("shop").withName("rbac").get()).isNotNull();
            assertThat(client.rbac().roleBindings().inNamespace("shop").withName("rbac-broker").get()).isNotNull();
            assertThat(client.rbac().clusterRoleBindings().withName("capstan-broker-nodes-shop-rbac").get().getRoleRef().getName())
                    .isEqualTo("capstan-broker-node-reader");
            assertThat(client.resources(BrokerCluster.class).inNamespace("shop").withName("rbac").get().getStatus().observedGeneration)
                    .isEqualTo(1L);
        }
    }

    /**
     * The chart's namespaced mode: Roles in the watched namespace only. As that ServiceAccount (impersonated) the
     * operator reconciles a full rack-aware, secured cluster (its CAs and certificates are Secrets), and is refused
     * Secrets and ConfigMaps anywhere else.
     */
    @Test
    void inNamespacedModeTheOperatorReconcilesAClusterInItsNamespaceAndCannotReadSecretsElsewhere() throws Exception {
        for (String ns : new String[] {"tenant", "tenant-operator"}) {
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
        }
        String rendered = new com.marcnuri.helm.Helm(Path.of("..", "helm", "capstan-operator")).template().withName("capstan")
                .withNamespace("tenant-operator").withKubeVersion("1.31.0").set("rbac.namespaced", true).set("watchNamespaces[0]", "tenant").call();
        try (var in = new java.io.ByteArrayInputStream(rendered.getBytes(java.nio.charset.StandardCharsets.UTF_8))) {
            for (var item : client.load(in).items()) {
                String kind = item.getKind();
                if (kind.equals("ServiceAccount") || kind.equals("ClusterRole") || kind.equals("ClusterRoleBinding")
                        || kind.equals("Role") || kind.equals("RoleBinding")) {
                    // server-side apply: the node-reader ClusterRole may exist already (the cluster-wide install's test)
                    client.resource(item).forceConflicts().serverSideApply();
                }
            }
        }
        var asOperator = new io.fabric8.kubernetes.client.ConfigBuilder(controlPlane.adminConfig())
                .withImpersonateUsername("system:serviceaccount:tenant-operator:capstan-operator").build();
        try (KubernetesClient operator = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(asOperator).build()) {
            BrokerCluster tenant = example("production.yaml");
            tenant.getMetadata().setNamespace("tenant");
            tenant.getMetadata().setName("vault");
            io.capstan.operator.api.BrokerClusterSpec.ListenerSpec scram = new io.capstan.operator.api.BrokerClusterSpec.ListenerSpec();
            scram.name = "scram";
            scram.port = 9093;
            scram.tls = true;
            scram.authentication = "scram-sha-512";
            tenant.getSpec().listeners = java.util.List.of(scram);
            client.resource(tenant).create();
            BrokerClusterReconciler reconciler = new BrokerClusterReconciler(operator, ResourceWriter.serverSideApply(operator),
                    pod -> RollingRestart.Safety.SAFE, ClusterMetadata.kubernetes(operator, new io.capstan.operator.shards.ClusterControllers(operator, 1000)),
                    null, System::currentTimeMillis).withNodeReaderBindings(false);
            BrokerCluster done = reconciler.reconcile(operator.resources(BrokerCluster.class).inNamespace("tenant").withName("vault").get());
            operator.resource(done).updateStatus();
            assertThat(client.apps().statefulSets().inNamespace("tenant").withName("vault").get()).isNotNull();
            assertThat(client.rbac().roles().inNamespace("tenant").withName("vault-broker").get()).isNotNull();
            assertThat(client.secrets().inNamespace("tenant").list().getItems()).extracting(x -> x.getMetadata().getName())
                    .contains("vault-cluster-ca", "vault-clients-ca", "vault-cluster-ca-cert", "vault-broker-certs");
            assertThat(client.rbac().clusterRoleBindings().withName("capstan-broker-nodes-tenant").get().getSubjects().get(0).getName())
                    .as("the chart binds the namespace's service accounts to the node reader").isEqualTo("system:serviceaccounts:tenant");
            assertThat(client.resources(BrokerCluster.class).inNamespace("tenant").withName("vault").get().getStatus().observedGeneration)
                    .isEqualTo(1L);

            for (Runnable outside : new Runnable[] {
                    () -> operator.secrets().inNamespace("shop").list(),
                    () -> operator.secrets().inNamespace("kube-system").list(),
                    () -> operator.secrets().inAnyNamespace().list(),
                    () -> operator.configMaps().inNamespace("kube-system").list(),
                    () -> operator.rbac().clusterRoleBindings().list()}) {
                assertThatThrownBy(outside::run).isInstanceOf(KubernetesClientException.class).hasMessageContaining("forbidden");
            }
        }
    }
}
