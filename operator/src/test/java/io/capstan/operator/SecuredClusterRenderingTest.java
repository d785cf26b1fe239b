package io.capstan.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.config.BrokerConfig;
import io.capstan.config.Listener;
import io.capstan.config.SecurityProtocol;
import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.certs.ClusterCertificates;
import io.capstan.operator.resources.ClusterSecrets;
import io.capstan.operator.resources.DesiredResources;
import io.capstan.operator.resources.ListenerSettings;
import io.capstan.operator.spec.SpecProblem;
import io.capstan.operator.spec.SpecValidator;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** spec.listeners as the brokers get them: settings a broker accepts, ports, the certificate volume, the policy. */
class SecuredClusterRenderingTest {
    static BrokerClusterSpec.ListenerSpec listener(String name, int port, boolean tls, String authentication) {
        BrokerClusterSpec.ListenerSpec l = new BrokerClusterSpec.ListenerSpec();
        l.name = name;
        l.port = port;
        l.tls = tls;
        l.authentication = authentication;
        return l;
    }

    static BrokerCluster secured(BrokerClusterSpec.ListenerSpec... listeners) {
        BrokerCluster c = DesiredResourcesTest.cluster(Map.of());
        c.getSpec().listeners = new ArrayList<>(List.of(listeners));
        return c;
    }

    /** The broker's settings as the pod's command line completes them (its node id and its advertised listeners). */
    static Map<String, String> brokerSettings(BrokerCluster c, int ordinal) throws Exception {
        Properties p = new Properties();
        p.load(new StringReader(DesiredResources.brokerProperties(c)));
        Map<String, String> settings = new TreeMap<>();
        p.forEach((k, v) -> settings.put((String) k, (String) v));
        settings.put("node.id", String.valueOf(ordinal));
        settings.put("metadata.namespace", "shop");
        String command = DesiredResources.statefulSet(c).getSpec().getTemplate().getSpec().getContainers().get(0).getCommand().get(2);
        String advertised = command.replaceAll(".*--set advertised.listeners=(\\S+).*", "$1")
                .replace("$(POD_NAME)", "orders-" + ordinal).replace("$(POD_NAMESPACE)", "shop");
        settings.put("advertised.listeners", advertised);
        return settings;
    }

    @Test
    void theBrokerAcceptsTheRenderedListenersAndReplicatesOverMutualTlsWithTheClusterCa() throws Exception {
        BrokerCluster c = secured(listener("plain", 9092, false, "none"), listener("scram", 9093, true, "scram-sha-512"),
                listener("mtls", 9094, true, "tls"));
        Map<String, String> settings = brokerSettings(c, 1);
        BrokerConfig config = BrokerConfig.from(settings);
        var security = config.security();
        assertThat(security.listeners()).extracting(Listener::name, Listener::port, Listener::protocol).containsExactly(
                org.assertj.core.groups.Tuple.tuple("REPLICATION", 9091, SecurityProtocol.SSL),
                org.assertj.core.groups.Tuple.tuple("PLAIN", 9092, SecurityProtocol.PLAINTEXT),
                org.assertj.core.groups.Tuple.tuple("SCRAM", 9093, SecurityProtocol.SASL_SSL),
                org.assertj.core.groups.Tuple.tuple("MTLS", 9094, SecurityProtocol.SSL));
        assertThat(security.listeners()).allSatisfy(l -> assertThat(l.advertisedHost()).isEqualTo("orders-1.orders-brokers.shop.svc"));
        assertThat(security.interBrokerListener()).isEqualTo("REPLICATION");
        assertThat(security.ssl().get("REPLICATION").clientAuth().name()).isEqualTo("REQUIRED");
        assertThat(security.ssl().get("REPLICATION").truststoreLocation()).isEqualTo("/etc/capstan-tls/cluster-ca.crt");
        assertThat(security.ssl().get("MTLS").clientAuth().name()).as("users' certificates come from the clients CA").isEqualTo("REQUIRED");
        assertThat(security.ssl().get("MTLS").truststoreLocation()).isEqualTo("/etc/capstan-tls/clients-ca.crt");
        assertThat(security.sasl().get("SCRAM").enabledMechanisms()).containsExactly("SCRAM-SHA-512");
        assertThat(security.superUsers()).containsExactlyInAnyOrder("User:CN=orders-broker,O=capstan", "User:CN=capstan-operator,O=capstan");
        assertThat(security.authorizerEnabled()).isTrue();
        assertThat(security.allowEveryoneIfNoAclFound()).isFalse();
    }

    @Test
    void aClusterWithoutAuthenticatingListenersHasNoAuthorizerAndUsersSuperUsersAreKept() throws Exception {
        BrokerCluster c = secured(listener("tls", 9093, true, "none"));
        c.getSpec().config.put("super.users", "User:admin");
        BrokerConfig config = BrokerConfig.from(brokerSettings(c, 0));
        assertThat(config.security().authorizerEnabled()).isFalse();
        assertThat(config.security().superUsers()).contains("User:admin", "User:CN=orders-broker,O=capstan");
    }

    @Test
    void podsServicesAndThePolicyCarryTheListenersAndTheCertificates() {
        BrokerCluster c = secured(listener("scram", 9093, true, "scram-sha-512"));
        var pod = DesiredResources.statefulSet(c).getSpec().getTemplate().getSpec();
        assertThat(pod.getContainers().get(0).getPorts()).extracting(p -> p.getName() + ":" + p.getContainerPort())
                .containsExactly("scram:9093", "replication:9091", "admin:9644");
        assertThat(pod.getVolumes()).anySatisfy(v -> {
            assertThat(v.getName()).isEqualTo("tls");
            assertThat(v.getSecret().getSecretName()).isEqualTo(ClusterSecrets.brokerCerts(c));
        });
        assertThat(pod.getContainers().get(0).getVolumeMounts()).anySatisfy(m -> {
            assertThat(m.getMountPath()).isEqualTo(ListenerSettings.TLS_PATH);
            assertThat(m.getReadOnly()).isTrue();
        });
        assertThat(DesiredResources.clientService(c).getSpec().getPorts()).extracting(p -> p.getPort()).containsExactly(9093);
        assertThat(DesiredResources.headlessService(c).getSpec().getPorts()).extracting(p -> p.getPort()).containsExactly(9093, 9091, 9644);
        var rules = DesiredResources.networkPolicy(c).getSpec().getIngress();
        assertThat(rules.get(0).getPorts()).extracting(p -> p.getPort().getIntVal()).containsExactly(9093);
        assertThat(rules.get(0).getFrom()).as("clients from anywhere").isNullOrEmpty();
        assertThat(rules.get(1).getPorts()).extracting(p -> p.getPort().getIntVal()).containsExactly(9091);
        assertThat(rules.get(1).getFrom()).as("replication: the brokers and the operator only").hasSize(2);
        assertThat(rules.get(1).getFrom().get(0).getPodSelector().getMatchLabels()).containsEntry("app.kubernetes.io/instance", "orders");
        assertThat(rules.get(1).getFrom().get(1).getPodSelector().getMatchLabels()).isEqualTo(DesiredResources.OPERATOR_POD_LABELS);
    }

    @Test
    void theBrokerCertificateNamesEveryAddressAClientUses() {
        var names = ClusterCertificates.brokerNames(secured(listener("tls", 9093, true, "none")), 3).dnsNames();
        assertThat(names).contains("orders-0.orders-brokers.shop.svc", "orders-2.orders-brokers.shop.svc.cluster.local",
                "*.orders-brokers.shop.svc", "orders.shop.svc", "orders.shop", "orders", "orders-brokers.shop.svc");
        assertThat(names).doesNotContain("orders-3.orders-brokers.shop.svc");
    }

    @Test
    void listenersThatCollideOrCertificatesThatCannotWorkAreNamed() {
        BrokerCluster c = secured(listener("replication", 9093, true, "none"), listener("a", 9644, false, "none"),
                listener("b", 9095, false, "none"), listener("b", 9095, false, "none"));
        c.getSpec().certificates = new BrokerClusterSpec.Certificates();
        c.getSpec().certificates.validity = "10d";
        c.getSpec().certificates.renewBefore = "10d";
        c.getSpec().certificates.caValidity = "5d";
        c.getSpec().config.put("ssl.keystore.location", "/x");
        assertThat(SpecValidator.validate(c.getSpec())).extracting(SpecProblem::field).containsExactlyInAnyOrder(
                "spec.listeners[0].name", "spec.listeners[1].port", "spec.listeners[3].name", "spec.listeners[3].port",
                "spec.certificates.renewBefore", "spec.certificates.validity", "spec.config.ssl.keystore.location");
    }

    @Test
    void withoutListenersTheRenderingIsTheOnePlaintextListenerAsBefore() {
        BrokerCluster c = DesiredResourcesTest.cluster(Map.of());
        assertThat(DesiredResources.brokerProperties(c)).contains("listener.port=9092").doesNotContain("listeners=");
        assertThat(DesiredResources.statefulSet(c).getSpec().getTemplate().getSpec().getVolumes()).extracting(v -> v.getName())
                .doesNotContain("tls");
    }
}
