package io.capstan.operator.users;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.api.CapstanUser;
import io.capstan.operator.api.CapstanUserSpec;
import io.capstan.operator.reconcile.Conditions;
import io.capstan.operator.reconcile.ResourceWriter;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Why a user is not ready, said in its condition, before any connection to the cluster is tried (Fabric8's mock
 * API server; applying credentials and ACLs to real brokers is BrokerPodsTest's part).
 */
class CapstanUserReconcilerTest {
    KubernetesMockServer server;
    KubernetesClient client;
    final AtomicInteger adminsOpened = new AtomicInteger();
    CapstanUserReconciler reconciler;

    @BeforeEach
    void start() {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init();
        client = server.createClient();
        reconciler = new CapstanUserReconciler(client, ResourceWriter.createOrUpdate(client), (cluster, ca) -> {
            adminsOpened.incrementAndGet();
            throw new IllegalStateException("no brokers in this test");
        });
    }

    @AfterEach
    void stop() {
        client.close();
        server.destroy();
    }

    void cluster(boolean secured) {
        BrokerCluster c = new BrokerCluster();
        c.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace("shop").build());
        c.setSpec(new BrokerClusterSpec());
        c.getSpec().version = "0.1.0";
        if (secured) {
            BrokerClusterSpec.ListenerSpec l = new BrokerClusterSpec.ListenerSpec();
            l.name = "scram";
            l.port = 9093;
            l.tls = true;
            l.authentication = "scram-sha-512";
            c.getSpec().listeners = List.of(l);
        }
        client.resource(c).create();
    }

    CapstanUser user(CapstanUserSpec.Password password) {
        CapstanUser u = new CapstanUser();
        u.setMetadata(new ObjectMetaBuilder().withName("alice").withNamespace("shop").withGeneration(1L).build());
        u.setSpec(new CapstanUserSpec());
        u.getSpec().cluster = "orders";
        u.getSpec().authentication = new CapstanUserSpec.Authentication();
        u.getSpec().authentication.type = "scram-sha-512";
        u.getSpec().authentication.password = password;
        return client.resource(u).create();
    }

    Condition ready(CapstanUser u) {
        CapstanUser done = reconciler.reconcile(u, null).getResource().orElseThrow();
        assertThat(done.getStatus().username).isEqualTo("alice");
        return Conditions.get(done.getStatus().conditions, Conditions.READY);
    }

    @Test
    void aUserOfAMissingClusterIsNotReadyNamingIt() {
        Condition c = ready(user(null));
        assertThat(c.getStatus()).isEqualTo("False");
        assertThat(c.getReason()).isEqualTo("ClusterNotFound");
        assertThat(c.getMessage()).contains("BrokerCluster orders does not exist in namespace shop");
        assertThat(adminsOpened).hasValue(0);
    }

    @Test
    void aUserOfAClusterWithoutListenersIsNotReadyAndSaysWhatToAdd() {
        cluster(false);
        Condition c = ready(user(null));
        assertThat(c.getReason()).isEqualTo("ClusterNotSecured");
        assertThat(c.getMessage()).contains("has no spec.listeners");
    }

    @Test
    void aUserBeforeTheClustersCasExistIsNotReadyYet() {
        cluster(true);
        assertThat(ready(user(null)).getReason()).isEqualTo("CertificatesNotReady");
    }

    @Test
    void aPasswordFromAMissingSecretIsNamedAndAnUnreachableClusterIsReported() {
        cluster(true);
        // the cluster's CAs, as the BrokerCluster reconciler makes them
        new io.capstan.operator.certs.ClusterCertificates(client, s -> client.resource(s).createOr(r -> r.update()))
                .ensure(client.resources(BrokerCluster.class).inNamespace("shop").withName("orders").get(), 3, java.time.Instant.now());
        CapstanUserSpec.Password password = new CapstanUserSpec.Password();
        password.secretKeyRef = new CapstanUserSpec.SecretKeyRef();
        password.secretKeyRef.name = "alice-password";
        password.secretKeyRef.key = "pw";
        CapstanUser alice = user(password);
        Condition missing = ready(alice);
        assertThat(missing.getReason()).isEqualTo("PasswordSecretMissing");
        assertThat(missing.getMessage()).contains("alice-password", "spec.authentication.password.secretKeyRef");

        client.resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata().withName("alice-password").withNamespace("shop")
                .endMetadata().withData(java.util.Map.of("pw", java.util.Base64.getEncoder().encodeToString("s3cret".getBytes()))).build()).create();
        Condition unreachable = ready(alice);
        assertThat(unreachable.getReason()).isEqualTo("ClusterUnreachable");
        assertThat(unreachable.getMessage()).contains("no brokers in this test", "check that its brokers are ready");
        assertThat(adminsOpened).hasValue(1);
        assertThat(client.secrets().inNamespace("shop").withName("alice").get()).as("no credentials written before they are applied").isNull();
    }
}
