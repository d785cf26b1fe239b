package io.capstan.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.config.BrokerConfig;
import io.capstan.config.Listener;
import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.api.BrokerClusterStatus.ListenerStatus;
import io.capstan.operator.resources.DesiredResources;
import io.capstan.operator.resources.ExternalListeners;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Listeners of type nodeport and loadbalancer: their Services, the addresses brokers advertise, the status, the start script. */
class ExternalListenersTest {
    @TempDir
    Path tmp;

    static BrokerClusterSpec.ListenerSpec external(String name, int port, String type) {
        BrokerClusterSpec.ListenerSpec l = SecuredClusterRenderingTest.listener(name, port, false, "none");
        l.type = type;
        return l;
    }

    static BrokerCluster cluster() {
        return SecuredClusterRenderingTest.secured(SecuredClusterRenderingTest.listener("plain", 9092, false, "none"),
                external("external", 9094, "nodeport"), external("lb", 9095, "loadbalancer"));
    }

    /** A Service as the API server holds it once it allocated {@code nodePort}. */
    static Service allocated(Service rendered, int nodePort) {
        Service s = io.fabric8.kubernetes.client.utils.Serialization.clone(rendered);
        s.getSpec().getPorts().get(0).setNodePort(nodePort);
        return s;
    }

    static Service withIngress(Service rendered, String ip, String hostname) {
        Service s = io.fabric8.kubernetes.client.utils.Serialization.clone(rendered);
        s.setStatus(new io.fabric8.kubernetes.api.model.ServiceStatusBuilder().withNewLoadBalancer()
                .withIngress(new LoadBalancerIngressBuilder().withIp(ip).withHostname(hostname).build()).endLoadBalancer().build());
        return s;
    }

    static List<Service> services(List<HasMetadata> objects) {
        return objects.stream().filter(Service.class::isInstance).map(Service.class::cast).toList();
    }

    static Service named(List<Service> services, String name) {
        return services.stream().filter(s -> s.getMetadata().getName().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void eachExternalListenerGetsABootstrapServiceAndOnePerBrokerSelectingOnlyThatBroker() {
        List<HasMetadata> objects = DesiredResources.all(cluster(), 3, "10Gi", null, List.of());
        List<Service> external = services(objects).stream()
                .filter(s -> s.getMetadata().getLabels().containsKey(ExternalListeners.LISTENER_LABEL)).toList();
        assertThat(external).extracting(s -> s.getMetadata().getName()).containsExactly(
                "orders-external-bootstrap", "orders-0-external", "orders-1-external", "orders-2-external",
                "orders-lb-bootstrap", "orders-0-lb", "orders-1-lb", "orders-2-lb");
        Service bootstrap = named(external, "orders-external-bootstrap");
        assertThat(bootstrap.getSpec().getType()).isEqualTo("NodePort");
        assertThat(bootstrap.getSpec().getSelector()).doesNotContainKey("statefulset.kubernetes.io/pod-name");
        assertThat(bootstrap.getSpec().getPublishNotReadyAddresses()).as("bootstrap from ready brokers only").isFalse();
        assertThat(bootstrap.getSpec().getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getPort()).isEqualTo(9094);
            assertThat(p.getTargetPort().getIntVal()).isEqualTo(9094);
            assertThat(p.getNodePort()).as("left to the API server").isNull();
        });
        Service one = named(external, "orders-1-lb");
        assertThat(one.getSpec().getType()).isEqualTo("LoadBalancer");
        assertThat(one.getSpec().getSelector()).containsEntry("statefulset.kubernetes.io/pod-name", "orders-1")
                .containsEntry("app.kubernetes.io/instance", "orders");
        assertThat(one.getSpec().getPublishNotReadyAddresses()).isTrue();
        // the addresses ConfigMap and the Services come before the StatefulSet whose pods need them
        List<String> kinds = objects.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList();
        assertThat(kinds.indexOf("ConfigMap/orders-external-addresses")).isPositive().isLessThan(kinds.indexOf("StatefulSet/orders"));
        assertThat(kinds.get(kinds.size() - 1)).isEqualTo("StatefulSet/orders");
    }

    @Test
    void aClusterWithoutExternalListenersRendersNoneOfIt() {
        BrokerCluster internal = SecuredClusterRenderingTest.secured(SecuredClusterRenderingTest.listener("plain", 9092, false, "none"));
        List<HasMetadata> objects = DesiredResources.all(internal, 3, "10Gi", null, List.of());
        assertThat(objects).noneMatch(o -> o.getMetadata().getName().contains("external"));
        StatefulSet sts = DesiredResources.statefulSet(internal);
        var container = sts.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(container.getEnv()).noneMatch(e -> e.getName().equals("HOST_IP"));
        assertThat(container.getCommand().get(2)).doesNotContain("waiting").startsWith("exec ");
    }

    @Test
    void addressesArePublishedOnlyOnceTheApiServerOrALoadBalancerGaveThem() {
        BrokerCluster c = cluster();
        List<Service> rendered = services(DesiredResources.all(c, 3, "10Gi", null, List.of()));
        List<Service> observed = new ArrayList<>(List.of(
                allocated(named(rendered, "orders-0-external"), 31000),
                allocated(named(rendered, "orders-1-external"), 31001),
                named(rendered, "orders-2-external"), // not allocated yet
                withIngress(named(rendered, "orders-0-lb"), "203.0.113.10", null),
                withIngress(named(rendered, "orders-1-lb"), "203.0.113.11", "b1.example.com")));
        assertThat(ExternalListeners.addresses(c, 3, observed)).containsExactlyInAnyOrderEntriesOf(Map.of(
                "external-0", ":31000\n", "external-1", ":31001\n",
                "lb-0", "203.0.113.10:9095\n", "lb-1", "b1.example.com:9095\n"));
        c.getSpec().listeners.get(1).advertisedHost = "nodes.example.com";
        assertThat(ExternalListeners.addresses(c, 3, observed)).containsEntry("external-0", "nodes.example.com:31000\n");
        ConfigMap published = ExternalListeners.addressesConfigMap(c, 3, observed);
        assertThat(published.getMetadata().getName()).isEqualTo("orders-external-addresses");
        assertThat(published.getData()).hasSize(4);
        // a broker beyond the StatefulSet's count gets no address even if its Service is still there
        assertThat(ExternalListeners.addresses(c, 1, observed)).containsOnlyKeys("external-0", "lb-0");
    }

    @Test
    void statusGivesTheBootstrapAddressOrSaysWhatIsMissing() {
        BrokerCluster c = cluster();
        List<Service> rendered = services(DesiredResources.all(c, 3, "10Gi", null, List.of()));
        List<Pod> pods = List.of(pod("orders-0", "10.1.0.2"), pod("orders-1", "10.1.0.1"), pod("orders-2", "10.1.0.2"), pod("orders-3", null));
        List<ListenerStatus> none = ExternalListeners.status(c, List.of(), pods);
        assertThat(none).extracting(s -> s.name, s -> s.type, s -> s.bootstrapServers).containsExactly(
                org.assertj.core.groups.Tuple.tuple("external", "nodeport", null), org.assertj.core.groups.Tuple.tuple("lb", "loadbalancer", null));
        assertThat(none.get(0).message).contains("orders-external-bootstrap").contains("no node port");
        assertThat(none.get(1).message).contains("orders-lb-bootstrap").contains("use type nodeport");

        List<Service> observed = List.of(allocated(named(rendered, "orders-external-bootstrap"), 30500),
                withIngress(named(rendered, "orders-lb-bootstrap"), "203.0.113.9", null));
        List<ListenerStatus> known = ExternalListeners.status(c, observed, pods);
        assertThat(known.get(0).bootstrapServers).as("every node a broker runs on, once").isEqualTo("10.1.0.1:30500,10.1.0.2:30500");
        assertThat(known.get(1).bootstrapServers).isEqualTo("203.0.113.9:9095");
        assertThat(known).allSatisfy(s -> assertThat(s.message).isNull());
        c.getSpec().listeners.get(1).advertisedHost = "nodes.example.com";
        assertThat(ExternalListeners.status(c, observed, pods).get(0).bootstrapServers).isEqualTo("nodes.example.com:30500");
        assertThat(ExternalListeners.status(c, observed, List.of()).get(1).bootstrapServers).isEqualTo("203.0.113.9:9095");
    }

    @Test
    void servicesOfBrokersAndListenersNoLongerRenderedAreStale() {
        BrokerCluster c = cluster();
        List<HasMetadata> threeBrokers = DesiredResources.all(c, 3, "10Gi", null, List.of());
        List<HasMetadata> twoBrokers = DesiredResources.all(c, 2, "10Gi", null, List.of());
        List<Service> observed = services(threeBrokers);
        assertThat(ExternalListeners.stale(observed, threeBrokers)).isEmpty();
        assertThat(ExternalListeners.stale(observed, twoBrokers)).extracting(s -> s.getMetadata().getName())
                .containsExactlyInAnyOrder("orders-2-external", "orders-2-lb");
        c.getSpec().listeners.remove(2);
        assertThat(ExternalListeners.stale(observed, DesiredResources.all(c, 3, "10Gi", null, List.of())))
                .extracting(s -> s.getMetadata().getName())
                .containsExactlyInAnyOrder("orders-lb-bootstrap", "orders-0-lb", "orders-1-lb", "orders-2-lb")
                .as("the headless and client Services are never stale").doesNotContain("orders", "orders-brokers");
    }

    /**
     * The pod's start script run by a real sh: it waits, saying why, until the operator published this broker's
     * addresses, then starts the broker advertising them (its node's address in front of a bare node port); the
     * broker accepts the settings it gets.
     */
    @Test
    void theStartScriptWaitsForItsAddressesThenAdvertisesThem() throws Exception {
        BrokerCluster c = cluster();
        var container = DesiredResources.statefulSet(c).getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(container.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("HOST_IP");
            assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("status.hostIP");
        });
        assertThat(container.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo(ExternalListeners.ADDRESSES_PATH));
        Path addresses = Files.createDirectories(tmp.resolve("addresses"));
        Path out = tmp.resolve("out");
        Process sh = startScript(c, "orders-1", addresses, out);
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> Files.readString(out).contains("waiting for the operator to publish this"
                    + " broker's address on listener external (Service orders-1-external"));
            assertThat(sh.isAlive()).as("the broker does not start without its addresses").isTrue();
            Files.writeString(addresses.resolve("external-1"), ":31001\n");
            Files.writeString(addresses.resolve("lb-1"), "203.0.113.11:9095\n");
            assertThat(sh.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            sh.destroyForcibly();
        }
        String args = Files.readString(out);
        String advertised = args.replaceAll("(?s).*--set advertised.listeners=(\\S+).*", "$1");
        assertThat(advertised).isEqualTo("REPLICATION://orders-1.orders-brokers.shop.svc:9091,PLAIN://orders-1.orders-brokers.shop.svc:9092,"
                + "EXTERNAL://10.1.0.7:31001,LB://203.0.113.11:9095");

        Map<String, String> settings = SecuredClusterRenderingTest.brokerSettings(c, 1);
        settings.put("advertised.listeners", advertised);
        var listeners = BrokerConfig.from(settings).security().listeners();
        assertThat(listeners).filteredOn(l -> l.name().equals("EXTERNAL")).singleElement().satisfies(l -> {
            assertThat(l.port()).as("bound on the container port").isEqualTo(9094);
            assertThat(l.advertisedHost()).isEqualTo("10.1.0.7");
            assertThat(l.advertisedPort()).as("advertised on the node port").isEqualTo(31001);
        });
        assertThat(listeners).extracting(Listener::name).containsExactly("REPLICATION", "PLAIN", "EXTERNAL", "LB");
    }

    /**
     * Broker {@code pod}'s start script as the StatefulSet renders it, run by a real sh on node 10.1.0.7, reading its
     * addresses from {@code addresses} and echoing the broker's command line (not starting it) into {@code out}.
     */
    static Process startScript(BrokerCluster c, String pod, Path addresses, Path out) throws java.io.IOException {
        var container = DesiredResources.statefulSet(c).getSpec().getTemplate().getSpec().getContainers().get(0);
        String script = container.getCommand().get(2)
                .replace(ExternalListeners.ADDRESSES_PATH, addresses.toString())
                .replace("exec /opt/capstan/bin/capstan broker", "exec echo")
                .replace("$(POD_NAME)", pod).replace("$(POD_NAMESPACE)", "shop");
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().putAll(Map.of("POD_NAME", pod, "POD_NAMESPACE", "shop", "HOST_IP", "10.1.0.7"));
        return pb.start();
    }

    private static Pod pod(String name, String hostIp) {
        return new PodBuilder().withNewMetadata().withName(name).endMetadata().withNewStatus().withHostIP(hostIp).endStatus().build();
    }
}
