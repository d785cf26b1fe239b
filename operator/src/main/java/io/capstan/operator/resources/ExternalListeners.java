package io.capstan.operator.resources;

import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterSpec.ListenerSpec;
import io.capstan.operator.api.BrokerClusterStatus.ListenerStatus;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Listeners clients outside Kubernetes reach, as Strimzi and Redpanda expose them: a Service per broker, so that a
 * client can reach the one broker a shard's leader is on, and one to bootstrap from. Types nodeport and loadbalancer
 * make those Services reachable themselves; a broker advertises what its own Service was given (a node port, a load
 * balancer's address), which the API server or a load-balancer controller decides after the Service exists, so the
 * operator publishes each broker's address in a ConfigMap once it knows it and the broker waits for its entry before
 * it starts. Types ingress and tlsroute put an ingress controller or a Gateway in front, which passes each TLS
 * connection through unopened to the Service its host name (SNI) names; a broker advertises its host name from the
 * spec, known at once. Pure: everything here is computed from the BrokerCluster and the Services as observed.
 */
public final class ExternalListeners {
    /** Where a broker reads the addresses the operator published (a ConfigMap volume). */
    public static final String ADDRESSES_PATH = "/etc/capstan-external";
    /** The label the StatefulSet controller gives each of its pods: a per-broker Service selects one pod by it. */
    static final String POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";

    private ExternalListeners() {}

    public static boolean external(ListenerSpec l) {
        return "nodeport".equals(l.type) || "loadbalancer".equals(l.type) || passthrough(l);
    }

    /** An ingress or tlsroute listener: reached through a proxy that routes TLS by host name. */
    public static boolean passthrough(ListenerSpec l) {
        return "ingress".equals(l.type) || "tlsroute".equals(l.type);
    }

    /** The annotation that makes ingress-nginx pass TLS through instead of terminating it. */
    public static final String NGINX_SSL_PASSTHROUGH = "nginx.ingress.kubernetes.io/ssl-passthrough";
    /** Gateway API's TLSRoute, served as v1 from Gateway API v1.5 on. */
    public static final String TLS_ROUTE_API_VERSION = "gateway.networking.k8s.io/v1";
    public static final String TLS_ROUTE_CRD = "tlsroutes.gateway.networking.k8s.io";

    /** Every host name the passthrough listeners give clients: the brokers' certificate must name each. */
    public static java.util.SortedSet<String> passthroughHosts(BrokerCluster c, int brokers) {
        java.util.SortedSet<String> out = new TreeSet<>();
        for (ListenerSpec l : of(c)) {
            if (passthrough(l)) {
                out.add(l.hosts.bootstrap);
                for (int i = 0; i < brokers; i++) {
                    out.add(l.hosts.forBroker(i));
                }
            }
        }
        return out;
    }

    /**
     * What TLS clients outside check the broker certificate against on nodeport and loadbalancer listeners with TLS,
     * as far as the observed cluster tells it: advertisedHost, else the address of every node a broker runs on; each
     * load balancer's hostname or IP. Not for plaintext listeners, whose addresses no certificate needs to name.
     */
    public static java.util.SortedSet<String> certificateNames(BrokerCluster c, int brokers, List<Service> observed, List<Pod> pods) {
        java.util.SortedSet<String> out = new TreeSet<>();
        for (ListenerSpec l : of(c)) {
            if (!Boolean.TRUE.equals(l.tls) || passthrough(l)) {
                continue;
            }
            if ("nodeport".equals(l.type)) {
                if (l.advertisedHost != null) {
                    out.add(l.advertisedHost);
                } else {
                    pods.stream().map(p -> p.getStatus() == null ? null : p.getStatus().getHostIP())
                            .filter(ip -> ip != null && !ip.isEmpty()).forEach(out::add);
                }
            } else {
                find(observed, bootstrapServiceName(c, l)).flatMap(ExternalListeners::loadBalancerHost).ifPresent(out::add);
                for (int i = 0; i < brokers; i++) {
                    find(observed, brokerServiceName(c, l, i)).flatMap(ExternalListeners::loadBalancerHost).ifPresent(out::add);
                }
            }
        }
        return out;
    }

    /** Per ingress listener, an Ingress per Service of {@link #services}, named as it is: its host name to that Service. */
    static List<io.fabric8.kubernetes.api.model.HasMetadata> ingresses(BrokerCluster c, int brokers) {
        return routes(c, brokers, "ingress");
    }

    /**
     * Per tlsroute listener, a TLSRoute per Service of {@link #services}, named as it is: its host name to that Service.
     * Generic objects, since the CRD may be missing; the reconciler writes them only where it is.
     */
    public static List<io.fabric8.kubernetes.api.model.HasMetadata> tlsRoutes(BrokerCluster c, int brokers) {
        return routes(c, brokers, "tlsroute");
    }

    private static List<io.fabric8.kubernetes.api.model.HasMetadata> routes(BrokerCluster c, int brokers, String type) {
        List<io.fabric8.kubernetes.api.model.HasMetadata> out = new ArrayList<>();
        for (ListenerSpec l : of(c)) {
            if (!type.equals(l.type)) {
                continue;
            }
            out.add(route(c, l, bootstrapServiceName(c, l), l.hosts.bootstrap));
            for (int i = 0; i < brokers; i++) {
                out.add(route(c, l, brokerServiceName(c, l, i), l.hosts.forBroker(i)));
            }
        }
        return out;
    }

    private static io.fabric8.kubernetes.api.model.HasMetadata route(BrokerCluster c, ListenerSpec l, String service, String host) {
        io.fabric8.kubernetes.api.model.ObjectMeta meta = DesiredResources.meta(c, service);
        meta.getLabels().put(LISTENER_LABEL, l.name);
        if ("ingress".equals(l.type)) {
            meta.setAnnotations(new LinkedHashMap<>(Map.of(NGINX_SSL_PASSTHROUGH, "true")));
            return new io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder().withMetadata(meta).withNewSpec()
                    .withIngressClassName(l.ingressClassName)
                    .addNewTl().withHosts(host).endTl()
                    .addNewRule().withHost(host).withNewHttp().addNewPath().withPath("/").withPathType("Prefix")
                    .withNewBackend().withNewService().withName(service).withNewPort().withNumber(l.port).endPort().endService().endBackend()
                    .endPath().endHttp().endRule()
                    .endSpec().build();
        }
        Map<String, Object> parent = new LinkedHashMap<>();
        parent.put("group", "gateway.networking.k8s.io");
        parent.put("kind", "Gateway");
        parent.put("name", l.gateway.name);
        if (l.gateway.namespace != null) {
            parent.put("namespace", l.gateway.namespace);
        }
        if (l.gateway.sectionName != null) {
            parent.put("sectionName", l.gateway.sectionName);
        }
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("parentRefs", List.of(parent));
        spec.put("hostnames", List.of(host));
        spec.put("rules", List.of(Map.of("backendRefs", List.of(Map.of("name", service, "port", l.port)))));
        io.fabric8.kubernetes.api.model.GenericKubernetesResource route = new io.fabric8.kubernetes.api.model.GenericKubernetesResource();
        route.setApiVersion(TLS_ROUTE_API_VERSION);
        route.setKind("TLSRoute");
        route.setMetadata(meta);
        route.setAdditionalProperty("spec", spec);
        return route;
    }

    /** The cluster's external listeners, in spec order. */
    public static List<ListenerSpec> of(BrokerCluster c) {
        return c.getSpec().listeners == null ? List.of() : c.getSpec().listeners.stream().filter(ExternalListeners::external).toList();
    }

    public static String bootstrapServiceName(BrokerCluster c, ListenerSpec l) {
        return c.getMetadata().getName() + "-" + l.name + "-bootstrap";
    }

    public static String brokerServiceName(BrokerCluster c, ListenerSpec l, int ordinal) {
        return c.getMetadata().getName() + "-" + ordinal + "-" + l.name;
    }

    public static String addressesConfigMapName(BrokerCluster c) {
        return c.getMetadata().getName() + "-external-addresses";
    }

    /** The file (a key of the addresses ConfigMap) holding broker {@code ordinal}'s address on listener {@code l}. */
    static String addressKey(ListenerSpec l, int ordinal) {
        return l.name + "-" + ordinal;
    }

    private static String serviceType(ListenerSpec l) {
        switch (l.type) {
            case "nodeport":
                return "NodePort";
            case "loadbalancer":
                return "LoadBalancer";
            default:
                return "ClusterIP";
        }
    }

    /**
     * A bootstrap Service per external listener (ready brokers only) and one per broker and listener (whatever its
     * readiness, as the pods' DNS names are: a client must reach a leader that is starting to learn why it waits).
     * Node ports are left to the API server, which allocates them once and keeps them across applies.
     */
    static List<Service> services(BrokerCluster c, int brokers) {
        List<Service> out = new ArrayList<>();
        String cluster = c.getMetadata().getName();
        for (ListenerSpec l : of(c)) {
            out.add(service(c, bootstrapServiceName(c, l), l, Labels.selector(cluster), false));
            for (int i = 0; i < brokers; i++) {
                Map<String, String> selector = new LinkedHashMap<>(Labels.selector(cluster));
                selector.put(POD_NAME_LABEL, cluster + "-" + i);
                out.add(service(c, brokerServiceName(c, l, i), l, selector, true));
            }
        }
        return out;
    }

    /** On every Service of an external listener: the operator deletes the ones it no longer renders (scale-in, a listener removed). */
    public static final String LISTENER_LABEL = "capstan.io/external-listener";

    /** On every Service of an external listener: its listener's type, so that a type change is seen. */
    public static final String TYPE_LABEL = "capstan.io/external-type";

    /** The observed external-listener Services that {@code rendered} no longer holds. */
    public static List<Service> stale(List<Service> observed, List<? extends io.fabric8.kubernetes.api.model.HasMetadata> rendered) {
        java.util.Set<String> names = new java.util.HashSet<>();
        rendered.stream().filter(Service.class::isInstance).forEach(r -> names.add(r.getMetadata().getName()));
        return observed.stream().filter(s -> s.getMetadata().getLabels() != null && s.getMetadata().getLabels().containsKey(LISTENER_LABEL))
                .filter(s -> !names.contains(s.getMetadata().getName())).toList();
    }

    /** An Ingress or TLSRoute to delete: named as its Service, of a kind ("Ingress", "TLSRoute"). */
    public record StaleRoute(String kind, String name) {}

    /**
     * The routes that observed Services say exist (their type label) and {@code rendered} no longer holds: the Service
     * is gone, or its listener changed type.
     */
    public static List<StaleRoute> staleRoutes(List<Service> observed, List<? extends io.fabric8.kubernetes.api.model.HasMetadata> rendered) {
        Map<String, String> renderedKinds = new java.util.HashMap<>();
        rendered.stream().filter(r -> r.getKind() != null && (r.getKind().equals("Ingress") || r.getKind().equals("TLSRoute")))
                .forEach(r -> renderedKinds.put(r.getMetadata().getName(), r.getKind()));
        List<StaleRoute> out = new ArrayList<>();
        for (Service s : observed) {
            String type = s.getMetadata().getLabels() == null ? null : s.getMetadata().getLabels().get(TYPE_LABEL);
            String kind = "ingress".equals(type) ? "Ingress" : "tlsroute".equals(type) ? "TLSRoute" : null;
            if (kind != null && !kind.equals(renderedKinds.get(s.getMetadata().getName()))) {
                out.add(new StaleRoute(kind, s.getMetadata().getName()));
            }
        }
        return out;
    }

    private static Service service(BrokerCluster c, String name, ListenerSpec l, Map<String, String> selector, boolean notReadyToo) {
        io.fabric8.kubernetes.api.model.ObjectMeta meta = DesiredResources.meta(c, name);
        meta.getLabels().put(LISTENER_LABEL, l.name);
        meta.getLabels().put(TYPE_LABEL, l.type);
        return new ServiceBuilder().withMetadata(meta).withNewSpec()
                .withType(serviceType(l)).withSelector(selector).withPublishNotReadyAddresses(notReadyToo)
                .addNewPort().withName(l.name).withProtocol("TCP").withPort(l.port).withTargetPort(new IntOrString(l.port)).endPort()
                .endSpec().build();
    }

    /**
     * Each broker's address on each external listener as far as the observed Services tell it, by {@link #addressKey}:
     * "host:port", or ":port" for a node port without advertisedHost (the broker puts its node's address in front).
     * A broker whose Service has no node port or load-balancer address yet has no entry: it waits.
     */
    public static Map<String, String> addresses(BrokerCluster c, int brokers, List<Service> observed) {
        Map<String, String> out = new TreeMap<>();
        for (ListenerSpec l : of(c)) {
            for (int i = 0; i < brokers; i++) {
                String key = addressKey(l, i);
                address(l, i, find(observed, brokerServiceName(c, l, i))).ifPresent(a -> out.put(key, a + "\n"));
            }
        }
        return out;
    }

    private static Optional<String> address(ListenerSpec l, int id, Optional<Service> service) {
        if (passthrough(l)) {
            return Optional.of(l.hosts.forBroker(id) + ":" + l.hosts.port);
        }
        if ("nodeport".equals(l.type)) {
            return service.flatMap(s -> nodePort(s, l)).map(port -> (l.advertisedHost == null ? "" : l.advertisedHost) + ":" + port);
        }
        return service.flatMap(ExternalListeners::loadBalancerHost).map(host -> host + ":" + l.port);
    }

    /** The ConfigMap brokers read their external addresses from (see {@link #addresses}). */
    public static ConfigMap addressesConfigMap(BrokerCluster c, int brokers, List<Service> observed) {
        return new ConfigMapBuilder().withMetadata(DesiredResources.meta(c, addressesConfigMapName(c)))
                .withData(addresses(c, brokers, observed)).build();
    }

    /**
     * What status.listeners says per external listener: the bootstrap address (a node port on each node a broker runs
     * on, or advertisedHost; the bootstrap load balancer's address), or why it is not known yet.
     */
    public static List<ListenerStatus> status(BrokerCluster c, List<Service> observed, List<Pod> pods) {
        List<ListenerStatus> out = new ArrayList<>();
        for (ListenerSpec l : of(c)) {
            ListenerStatus s = new ListenerStatus();
            s.name = l.name;
            s.type = l.type;
            Optional<Service> bootstrap = find(observed, bootstrapServiceName(c, l));
            if (passthrough(l)) {
                s.bootstrapServers = l.hosts.bootstrap + ":" + l.hosts.port;
            } else if ("nodeport".equals(l.type)) {
                Optional<Integer> port = bootstrap.flatMap(b -> nodePort(b, l));
                TreeSet<String> hosts = new TreeSet<>();
                if (l.advertisedHost != null) {
                    hosts.add(l.advertisedHost);
                } else {
                    pods.stream().map(p -> p.getStatus() == null ? null : p.getStatus().getHostIP()).filter(Objects::nonNull)
                            .filter(ip -> !ip.isEmpty()).forEach(hosts::add);
                }
                if (port.isEmpty()) {
                    s.message = "Service " + bootstrapServiceName(c, l) + " has no node port yet";
                } else if (hosts.isEmpty()) {
                    s.message = "no broker runs on a node yet; node port " + port.get();
                } else {
                    s.bootstrapServers = String.join(",", hosts.stream().map(h -> h + ":" + port.get()).toList());
                }
            } else {
                Optional<String> host = bootstrap.flatMap(ExternalListeners::loadBalancerHost);
                if (host.isPresent()) {
                    s.bootstrapServers = host.get() + ":" + l.port;
                } else {
                    s.message = "Service " + bootstrapServiceName(c, l) + " has no load-balancer address yet (a cluster without a"
                            + " load-balancer controller never gives one: use type nodeport there)";
                }
            }
            out.add(s);
        }
        return out;
    }

    /**
     * Shell lines that set ADDR_<LISTENER> to this broker's address on each external listener, waiting (and saying
     * so in the log) until the operator has published it. Needs POD_NAME and HOST_IP in the environment.
     */
    static String waitForAddresses(BrokerCluster c) {
        StringBuilder b = new StringBuilder();
        for (ListenerSpec l : of(c)) {
            String variable = variable(l);
            String file = ADDRESSES_PATH + "/" + l.name + "-${POD_NAME##*-}";
            b.append("until [ -s ").append(file).append(" ]; do echo \"waiting for the operator to publish this broker's address on")
                    .append(" listener ").append(l.name).append(" (Service ").append(c.getMetadata().getName()).append("-${POD_NAME##*-}-")
                    .append(l.name).append("; see the BrokerCluster's status.listeners)\"; sleep 2; done; ")
                    .append("read -r ").append(variable).append(" < ").append(file).append("; ")
                    .append("case \"$").append(variable).append("\" in :*) ").append(variable).append("=\"${HOST_IP}$").append(variable)
                    .append("\";; esac; ");
        }
        return b.toString();
    }

    /** The shell variable {@link #waitForAddresses} sets for listener {@code l}. */
    static String variable(ListenerSpec l) {
        return "ADDR_" + ListenerSettings.kafkaName(l.name);
    }

    private static Optional<Service> find(List<Service> services, String name) {
        return services.stream().filter(s -> name.equals(s.getMetadata().getName())).findFirst();
    }

    private static Optional<Integer> nodePort(Service s, ListenerSpec l) {
        if (s.getSpec() == null || s.getSpec().getPorts() == null) {
            return Optional.empty();
        }
        return s.getSpec().getPorts().stream().filter(p -> l.name.equals(p.getName())).map(ServicePort::getNodePort)
                .filter(Objects::nonNull).findFirst();
    }

    private static Optional<String> loadBalancerHost(Service s) {
        if (s.getStatus() == null || s.getStatus().getLoadBalancer() == null || s.getStatus().getLoadBalancer().getIngress() == null) {
            return Optional.empty();
        }
        for (LoadBalancerIngress in : s.getStatus().getLoadBalancer().getIngress()) {
            if (in.getHostname() != null && !in.getHostname().isEmpty()) {
                return Optional.of(in.getHostname());
            }
            if (in.getIp() != null && !in.getIp().isEmpty()) {
                return Optional.of(in.getIp());
            }
        }
        return Optional.empty();
    }
}
