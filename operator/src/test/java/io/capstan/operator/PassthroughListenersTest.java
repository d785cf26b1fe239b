package io.capstan.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.config.BrokerConfig;
import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.api.BrokerClusterStatus.ListenerStatus;
import io.capstan.operator.certs.ClusterCertificates;
import io.capstan.operator.resources.DesiredResources;
import io.capstan.operator.resources.ExternalListeners;
import io.capstan.operator.spec.SpecProblem;
import io.capstan.operator.spec.SpecValidator;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Listeners of type ingress and tlsroute: a proxy in front passes each TLS connection through by host name. */
class PassthroughListenersTest {
    @TempDir
    Path tmp;

    static BrokerClusterSpec.ListenerSpec passthrough(String name, int port, String type, String bootstrap, String broker) {
        BrokerClusterSpec.ListenerSpec l = SecuredClusterRenderingTest.listener(name, port, true, "none");
        l.type = type;
        l.hosts = new BrokerClusterSpec.Hosts();
        l.hosts.bootstrap = bootstrap;
        l.hosts.broker = broker;
        if ("ingress".equals(type)) {
            l.ingressClassName = "nginx";
        } else {
            l.gateway = new BrokerClusterSpec.GatewayRef();
            l.gateway.name = "edge";
            l.gateway.sectionName = "kafka";
        }
        return l;
    }

    static BrokerCluster cluster() {
        return SecuredClusterRenderingTest.secured(SecuredClusterRenderingTest.listener("plain", 9092, false, "none"),
                passthrough("ing", 9096, "ingress", "kafka.example.com", "broker-{id}.kafka.example.com"),
                passthrough("gw", 9097, "tlsroute", "gw.example.com", "b{id}.gw.example.com"));
    }

    private static List<Ingress> ingresses(List<HasMetadata> objects) {
        return objects.stream().filter(Ingress.class::isInstance).map(Ingress.class::cast).toList();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> spec(HasMetadata route) {
        return (Map<String, Object>) ((GenericKubernetesResource) route).getAdditionalProperties().get("spec");
    }

    @Test
    void anIngressListenerGetsClusterIpServicesAndAPassthroughIngressPerBrokerAndForTheBootstrap() {
        List<HasMetadata> objects = DesiredResources.all(cluster(), 3, "10Gi", null, List.of());
        List<Service> services = ExternalListenersTest.services(objects).stream()
                .filter(s -> "ing".equals(s.getMetadata().getLabels().get(ExternalListeners.LISTENER_LABEL))).toList();
        assertThat(services).extracting(s -> s.getMetadata().getName())
                .containsExactly("orders-ing-bootstrap", "orders-0-ing", "orders-1-ing", "orders-2-ing");
        assertThat(services).allSatisfy(s -> {
            assertThat(s.getSpec().getType()).as("reached only through the ingress controller").isEqualTo("ClusterIP");
            assertThat(s.getMetadata().getLabels()).containsEntry(ExternalListeners.TYPE_LABEL, "ingress");
        });
        assertThat(ExternalListenersTest.named(services, "orders-1-ing").getSpec().getSelector())
                .containsEntry("statefulset.kubernetes.io/pod-name", "orders-1");

        List<Ingress> ingresses = ingresses(objects);
        assertThat(ingresses).extracting(i -> i.getMetadata().getName())
                .containsExactly("orders-ing-bootstrap", "orders-0-ing", "orders-1-ing", "orders-2-ing");
        Map<String, String> hostToService = new java.util.TreeMap<>();
        for (Ingress i : ingresses) {
            assertThat(i.getMetadata().getAnnotations()).containsEntry(ExternalListeners.NGINX_SSL_PASSTHROUGH, "true");
            assertThat(i.getSpec().getIngressClassName()).isEqualTo("nginx");
            assertThat(i.getSpec().getRules()).singleElement().satisfies(rule -> {
                assertThat(i.getSpec().getTls()).singleElement().satisfies(tls -> assertThat(tls.getHosts()).containsExactly(rule.getHost()));
                var backend = rule.getHttp().getPaths().get(0).getBackend().getService();
                assertThat(backend.getPort().getNumber()).as("the container port the Service exposes").isEqualTo(9096);
                hostToService.put(rule.getHost(), backend.getName());
            });
        }
        assertThat(hostToService).isEqualTo(Map.of("kafka.example.com", "orders-ing-bootstrap",
                "broker-0.kafka.example.com", "orders-0-ing", "broker-1.kafka.example.com", "orders-1-ing",
                "broker-2.kafka.example.com", "orders-2-ing"));
        assertThat(objects).as("TLSRoutes are written apart, where their CRD exists").noneMatch(o -> "TLSRoute".equals(o.getKind()));
    }

    @Test
    void aTlsRouteListenerGetsARoutePerBrokerAndForTheBootstrapAttachedToItsGateway() {
        List<HasMetadata> routes = ExternalListeners.tlsRoutes(cluster(), 2);
        assertThat(routes).extracting(r -> r.getMetadata().getName()).containsExactly("orders-gw-bootstrap", "orders-0-gw", "orders-1-gw");
        assertThat(routes).allSatisfy(r -> {
            assertThat(r.getApiVersion()).isEqualTo("gateway.networking.k8s.io/v1");
            assertThat(r.getKind()).isEqualTo("TLSRoute");
            assertThat(r.getMetadata().getOwnerReferences()).as("deleted with the cluster").isNotEmpty();
            assertThat(spec(r).get("parentRefs")).isEqualTo(List.of(Map.of("group", "gateway.networking.k8s.io", "kind", "Gateway",
                    "name", "edge", "sectionName", "kafka")));
        });
        assertThat(spec(routes.get(1)).get("hostnames")).isEqualTo(List.of("b0.gw.example.com"));
        assertThat(spec(routes.get(1)).get("rules")).isEqualTo(List.of(Map.of("backendRefs", List.of(Map.of("name", "orders-0-gw", "port", 9097)))));
        assertThat(spec(routes.get(0)).get("hostnames")).isEqualTo(List.of("gw.example.com"));
        assertThat(ExternalListeners.tlsRoutes(SecuredClusterRenderingTest.secured(SecuredClusterRenderingTest.listener("plain", 9092, false,
                "none")), 3)).isEmpty();
    }

    @Test
    void eachBrokerAdvertisesItsHostNameAtOnceAndTheStatusGivesTheBootstrapHost() {
        BrokerCluster c = cluster();
        c.getSpec().listeners.get(2).hosts.overrides = Map.of("1", "special.example.com");
        c.getSpec().listeners.get(2).hosts.port = 8443;
        assertThat(ExternalListeners.addresses(c, 2, List.of())).as("no Service needs to exist first").isEqualTo(Map.of(
                "ing-0", "broker-0.kafka.example.com:443\n", "ing-1", "broker-1.kafka.example.com:443\n",
                "gw-0", "b0.gw.example.com:8443\n", "gw-1", "special.example.com:8443\n"));
        List<ListenerStatus> status = ExternalListeners.status(c, List.of(), List.of());
        assertThat(status).extracting(s -> s.name, s -> s.type, s -> s.bootstrapServers).containsExactly(
                org.assertj.core.groups.Tuple.tuple("ing", "ingress", "kafka.example.com:443"),
                org.assertj.core.groups.Tuple.tuple("gw", "tlsroute", "gw.example.com:8443"));
    }

    @Test
    void theBrokerCertificateNamesEveryHostNameClientsCheckItAgainst() {
        BrokerCluster c = cluster();
        c.getSpec().listeners.get(1).hosts.overrides = Map.of("2", "third.example.com");
        assertThat(ClusterCertificates.brokerNames(c, 3).dnsNames()).contains("kafka.example.com", "broker-0.kafka.example.com",
                "broker-1.kafka.example.com", "third.example.com", "gw.example.com", "b0.gw.example.com", "b2.gw.example.com")
                .doesNotContain("broker-2.kafka.example.com", "b3.gw.example.com");
        assertThat(ClusterCertificates.brokerNames(SecuredClusterRenderingTest.secured(SecuredClusterRenderingTest.listener("tls", 9093,
                true, "none")), 3).dnsNames()).noneMatch(n -> n.contains("example.com"));
    }

    @Test
    void routesOfGoneBrokersListenersOfAnotherTypeAndRemovedListenersAreStale() {
        BrokerCluster c = cluster();
        List<HasMetadata> three = all(c, 3);
        List<Service> observed = ExternalListenersTest.services(three);
        assertThat(ExternalListeners.staleRoutes(observed, three)).isEmpty();
        assertThat(ExternalListeners.staleRoutes(observed, all(c, 2))).containsExactlyInAnyOrder(
                new ExternalListeners.StaleRoute("Ingress", "orders-2-ing"), new ExternalListeners.StaleRoute("TLSRoute", "orders-2-gw"));

        c.getSpec().listeners.get(1).type = "nodeport";
        c.getSpec().listeners.get(1).hosts = null;
        assertThat(ExternalListeners.staleRoutes(observed, all(c, 3))).as("ingress became nodeport: its Services stay, the Ingresses go")
                .containsExactlyInAnyOrder(new ExternalListeners.StaleRoute("Ingress", "orders-ing-bootstrap"),
                        new ExternalListeners.StaleRoute("Ingress", "orders-0-ing"), new ExternalListeners.StaleRoute("Ingress", "orders-1-ing"),
                        new ExternalListeners.StaleRoute("Ingress", "orders-2-ing"));
        c.getSpec().listeners.remove(2);
        assertThat(ExternalListeners.staleRoutes(observed, all(c, 3))).filteredOn(r -> r.kind().equals("TLSRoute")).hasSize(4);
    }

    private static List<HasMetadata> all(BrokerCluster c, int brokers) {
        List<HasMetadata> out = new java.util.ArrayList<>(DesiredResources.all(c, brokers, "10Gi", null, List.of()));
        out.addAll(ExternalListeners.tlsRoutes(c, brokers));
        return out;
    }

    /** The real start script, run by sh: it does not wait (the host names are known), and the broker accepts what it advertises. */
    @Test
    void theBrokerBindsItsContainerPortAndAdvertisesItsHostNameOnTheProxysPort() throws Exception {
        BrokerCluster c = cluster();
        Path addresses = Files.createDirectories(tmp.resolve("addresses"));
        for (var e : ExternalListeners.addresses(c, 3, List.of()).entrySet()) {
            Files.writeString(addresses.resolve(e.getKey()), e.getValue());
        }
        Path out = tmp.resolve("out");
        Process sh = ExternalListenersTest.startScript(c, "orders-2", addresses, out);
        try {
            assertThat(sh.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            sh.destroyForcibly();
        }
        String advertised = Files.readString(out).replaceAll("(?s).*--set advertised.listeners=(\\S+).*", "$1");
        assertThat(advertised).endsWith(",ING://broker-2.kafka.example.com:443,GW://b2.gw.example.com:443");
        Map<String, String> settings = SecuredClusterRenderingTest.brokerSettings(c, 2);
        settings.put("advertised.listeners", advertised);
        assertThat(BrokerConfig.from(settings).security().listeners()).filteredOn(l -> l.name().equals("ING")).singleElement().satisfies(l -> {
            assertThat(l.port()).isEqualTo(9096);
            assertThat(l.advertisedHost()).isEqualTo("broker-2.kafka.example.com");
            assertThat(l.advertisedPort()).isEqualTo(443);
        });
    }

    @Test
    void hostNamesThatAProxyCouldNotTellApartAndOverridesOfNoBrokerAreRefusedByField() {
        BrokerCluster c = cluster();
        c.getSpec().replicas = 3;
        assertThat(SpecValidator.validate(c.getSpec())).isEmpty();

        c.getSpec().listeners.get(1).hosts.overrides = Map.of("x", "a.example.com", "2", "broker-0.kafka.example.com");
        assertThat(SpecValidator.validate(c.getSpec())).extracting(SpecProblem::toString).containsExactlyInAnyOrder(
                "spec.listeners[1].hosts.overrides: has key x, which is not a broker id (0, 1, ...)",
                "spec.listeners[1].hosts: gives broker-0.kafka.example.com to both broker 0 and broker 2; a proxy routing by host name"
                        + " could not tell them apart");

        c.getSpec().listeners.get(1).hosts.overrides = null;
        BrokerClusterSpec.Hosts hosts = c.getSpec().listeners.get(1).hosts;
        c.getSpec().listeners.get(1).hosts = null; // as under an older CRD without the rules
        c.getSpec().listeners.get(2).gateway = null;
        assertThat(SpecValidator.validate(c.getSpec())).extracting(SpecProblem::toString).containsExactlyInAnyOrder(
                "spec.listeners[1].hosts: type ingress needs hosts.bootstrap and hosts.broker with {id} in it",
                "spec.listeners[2].gateway: type tlsroute needs gateway.name, the Gateway its routes attach to");
        c.getSpec().listeners.get(1).hosts = hosts;
        c.getSpec().listeners.get(2).gateway = new BrokerClusterSpec.GatewayRef();
        c.getSpec().listeners.get(2).gateway.name = "edge";
        c.getSpec().listeners.get(2).hosts.bootstrap = "broker-1.kafka.example.com";
        assertThat(SpecValidator.validate(c.getSpec())).extracting(SpecProblem::toString).containsExactly(
                "spec.listeners[2].hosts: gives broker-1.kafka.example.com to the bootstrap, as listener ing does; give each listener"
                        + " its own host names");
    }

    /**
     * TLS on a nodeport or loadbalancer listener: a client checks the certificate against the address it connects to,
     * so the certificate names each node a broker runs on (or advertisedHost) and each load balancer; plaintext
     * listeners add nothing.
     */
    @Test
    void tlsNodePortAndLoadBalancerListenersPutTheNodesAndBalancersAddressesInTheCertificate() {
        BrokerCluster c = ExternalListenersTest.cluster();
        List<Service> rendered = ExternalListenersTest.services(DesiredResources.all(c, 2, "10Gi", null, List.of()));
        List<Service> observed = List.of(ExternalListenersTest.withIngress(ExternalListenersTest.named(rendered, "orders-lb-bootstrap"), "203.0.113.9", null),
                ExternalListenersTest.withIngress(ExternalListenersTest.named(rendered, "orders-0-lb"), "203.0.113.10", null),
                ExternalListenersTest.withIngress(ExternalListenersTest.named(rendered, "orders-1-lb"), null, "b1.example.com"));
        List<io.fabric8.kubernetes.api.model.Pod> pods = List.of(pod("10.1.0.2"), pod("10.1.0.3"), pod(null));
        assertThat(ExternalListeners.certificateNames(c, 2, observed, pods)).as("plaintext listeners").isEmpty();

        c.getSpec().listeners.get(1).tls = true;
        c.getSpec().listeners.get(2).tls = true;
        assertThat(ExternalListeners.certificateNames(c, 2, observed, pods))
                .containsExactly("10.1.0.2", "10.1.0.3", "203.0.113.10", "203.0.113.9", "b1.example.com");
        c.getSpec().listeners.get(1).advertisedHost = "nodes.example.com";
        var wanted = ClusterCertificates.brokerNames(c, 2, ExternalListeners.certificateNames(c, 2, observed, pods));
        assertThat(wanted.ipAddresses()).containsExactlyInAnyOrder("203.0.113.9", "203.0.113.10");
        assertThat(wanted.dnsNames()).contains("nodes.example.com", "b1.example.com").doesNotContain("10.1.0.2");
    }

    private static io.fabric8.kubernetes.api.model.Pod pod(String hostIp) {
        return new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("p").endMetadata()
                .withNewStatus().withHostIP(hostIp).endStatus().build();
    }
}
