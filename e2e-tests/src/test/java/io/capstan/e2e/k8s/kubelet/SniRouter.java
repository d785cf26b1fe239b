package io.capstan.e2e.k8s.kubelet;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressRule;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stands in for a TLS-passthrough proxy this machine does not have: ingress-nginx with ssl-passthrough, or a Gateway API
 * implementation serving a Gateway's Passthrough TLS listener. It reads the server name (SNI) from each connection's
 * TLS ClientHello without terminating TLS, finds the route for that host name as the real one would (an Ingress of its
 * class carrying the passthrough annotation; a TLSRoute attached to its Gateway, whose listener must be TLS
 * Passthrough), and copies bytes both ways to one of the backend Service's endpoints. A name without a route: the
 * connection is closed. Each routed host name's pods are recorded, so a test can check where each name went.
 */
public final class SniRouter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SniRouter.class);
    private static final String PASSTHROUGH_ANNOTATION = "nginx.ingress.kubernetes.io/ssl-passthrough";

    /** Where a host name goes: a Service's port. */
    record Backend(String namespace, String service, int port) {}

    private final KubernetesClient client;
    private final String description;
    private final java.util.function.Function<String, Optional<Backend>> routes;
    private final InetSocketAddress address;
    private final Map<String, Set<String>> routed = new ConcurrentHashMap<>();
    private final ExecutorService connections = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "sni-router");
        t.setDaemon(true);
        return t;
    });
    private ServerSocket socket;

    private SniRouter(KubernetesClient client, String description, InetSocketAddress address, java.util.function.Function<String, Optional<Backend>> routes) {
        this.client = client;
        this.description = description;
        this.address = address;
        this.routes = routes;
    }

    /** An ingress controller of class {@code ingressClass} passing TLS through on {@code address}. */
    public static SniRouter ingressController(KubernetesClient client, String ingressClass, InetSocketAddress address) {
        return new SniRouter(client, "ingress controller " + ingressClass, address, host -> ingressRoute(client, ingressClass, host));
    }

    /** A Gateway implementation serving Gateway {@code namespace}/{@code name}'s listeners on {@code address}. */
    public static SniRouter gateway(KubernetesClient client, String namespace, String name, InetSocketAddress address) {
        return new SniRouter(client, "gateway " + namespace + "/" + name, address, host -> tlsRoute(client, namespace, name, host));
    }

    public SniRouter start() throws IOException {
        socket = new ServerSocket();
        socket.setReuseAddress(true);
        socket.bind(address);
        connections.execute(this::accept);
        log.info("{} passing TLS through on {}", description, address);
        return this;
    }

    /** Each host name routed so far, and the pods its connections went to. */
    public Map<String, Set<String>> routed() {
        return Map.copyOf(routed);
    }

    private void accept() {
        while (!socket.isClosed()) {
            try {
                Socket in = socket.accept();
                connections.execute(() -> forward(in));
            } catch (IOException e) {
                if (!socket.isClosed()) {
                    log.warn("{}: accept failed: {}", description, e.toString());
                }
            }
        }
    }

    private void forward(Socket in) {
        try {
            byte[] hello = readClientHelloRecord(in.getInputStream());
            Optional<String> host = serverName(hello);
            Optional<Backend> backend = host.flatMap(routes);
            List<ServiceEndpoints.Endpoint> endpoints = backend.map(b -> ServiceEndpoints.of(client, b.namespace(), b.service(), b.port()))
                    .orElse(List.of());
            if (endpoints.isEmpty()) {
                log.info("{}: no route or no endpoint for server name {} ({}): connection closed", description, host.orElse("(none)"),
                        backend.map(Backend::toString).orElse("no route"));
                in.close();
                return;
            }
            ServiceEndpoints.Endpoint target = endpoints.get(ThreadLocalRandom.current().nextInt(endpoints.size()));
            routed.computeIfAbsent(host.get(), h -> ConcurrentHashMap.newKeySet()).add(target.pod());
            Socket out = new Socket();
            out.connect(target.address(), 5_000);
            out.getOutputStream().write(hello);
            connections.execute(() -> Splice.copy(in, out));
            Splice.copy(out, in);
        } catch (IOException | RuntimeException e) {
            log.info("{}: connection dropped: {}", description, e.toString());
            Splice.closeQuietly(in);
        }
    }

    /** The first TLS record, whole (header included): a ClientHello fits one record. */
    private static byte[] readClientHelloRecord(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        byte[] header = new byte[5];
        data.readFully(header);
        if (header[0] != 22) {
            throw new IOException("not a TLS handshake record (content type " + header[0] + ")");
        }
        int length = ((header[3] & 0xff) << 8) | (header[4] & 0xff);
        byte[] record = new byte[5 + length];
        System.arraycopy(header, 0, record, 0, 5);
        data.readFully(record, 5, length);
        return record;
    }

    /** The host_name of the server_name extension (RFC 6066) of a ClientHello record, if it has one. */
    static Optional<String> serverName(byte[] record) {
        ByteBuffer b = ByteBuffer.wrap(record);
        b.position(5);
        if (b.get() != 1) {
            return Optional.empty(); // not a ClientHello
        }
        b.position(b.position() + 3 + 2 + 32); // handshake length, client version, random
        skip(b, b.get() & 0xff); // session id
        skip(b, b.getShort() & 0xffff); // cipher suites
        skip(b, b.get() & 0xff); // compression methods
        if (!b.hasRemaining()) {
            return Optional.empty();
        }
        int extensions = b.getShort() & 0xffff;
        int end = b.position() + extensions;
        while (b.position() < end) {
            int type = b.getShort() & 0xffff;
            int length = b.getShort() & 0xffff;
            if (type != 0) {
                skip(b, length);
                continue;
            }
            b.getShort(); // server name list length
            if (b.get() != 0) {
                return Optional.empty(); // not a host_name
            }
            byte[] name = new byte[b.getShort() & 0xffff];
            b.get(name);
            return Optional.of(new String(name, StandardCharsets.US_ASCII));
        }
        return Optional.empty();
    }

    /** Past {@code length} bytes (read the length first: {@code b.position(b.position() + b.get())} would not count the length byte). */
    private static void skip(ByteBuffer b, int length) {
        b.position(b.position() + length);
    }

    /** ingress-nginx's choice: an Ingress of its class, annotated for passthrough, with a rule for the host. */
    private static Optional<Backend> ingressRoute(KubernetesClient client, String ingressClass, String host) {
        for (Ingress ingress : client.network().v1().ingresses().inAnyNamespace().list().getItems()) {
            Map<String, String> annotations = ingress.getMetadata().getAnnotations();
            if (!ingressClass.equals(ingress.getSpec().getIngressClassName()) || annotations == null
                    || !"true".equals(annotations.get(PASSTHROUGH_ANNOTATION))) {
                continue;
            }
            for (IngressRule rule : ingress.getSpec().getRules()) {
                if (host.equals(rule.getHost()) && rule.getHttp() != null && !rule.getHttp().getPaths().isEmpty()) {
                    var service = rule.getHttp().getPaths().get(0).getBackend().getService();
                    return Optional.of(new Backend(ingress.getMetadata().getNamespace(), service.getName(), service.getPort().getNumber()));
                }
            }
        }
        return Optional.empty();
    }

    /**
     * A Gateway implementation's choice: a TLSRoute whose parentRef names this Gateway (and, if it names a section, a
     * listener of it that is TLS in Passthrough mode), with the host among its hostnames; its first backendRef.
     */
    @SuppressWarnings("unchecked")
    private static Optional<Backend> tlsRoute(KubernetesClient client, String namespace, String gateway, String host) {
        GenericKubernetesResource gw = client.genericKubernetesResources("gateway.networking.k8s.io/v1", "Gateway").inNamespace(namespace)
                .withName(gateway).get();
        if (gw == null) {
            return Optional.empty();
        }
        List<Map<String, Object>> listeners = (List<Map<String, Object>>) ((Map<String, Object>) gw.getAdditionalProperties().get("spec")).get("listeners");
        for (GenericKubernetesResource route : client.genericKubernetesResources("gateway.networking.k8s.io/v1", "TLSRoute")
                .inAnyNamespace().list().getItems()) {
            Map<String, Object> spec = (Map<String, Object>) route.getAdditionalProperties().get("spec");
            List<String> hostnames = (List<String>) spec.getOrDefault("hostnames", List.of());
            if (!hostnames.contains(host)) {
                continue;
            }
            boolean attached = ((List<Map<String, Object>>) spec.getOrDefault("parentRefs", List.of())).stream().anyMatch(parent ->
                    gateway.equals(parent.get("name"))
                            && namespace.equals(parent.getOrDefault("namespace", route.getMetadata().getNamespace()))
                            && listeners.stream().anyMatch(l -> (parent.get("sectionName") == null || parent.get("sectionName").equals(l.get("name")))
                                    && "TLS".equals(l.get("protocol"))
                                    && "Passthrough".equals(((Map<String, Object>) l.getOrDefault("tls", Map.of())).get("mode"))));
            if (!attached) {
                continue;
            }
            List<Map<String, Object>> rules = (List<Map<String, Object>>) spec.get("rules");
            Map<String, Object> backend = ((List<Map<String, Object>>) rules.get(0).get("backendRefs")).get(0);
            return Optional.of(new Backend(route.getMetadata().getNamespace(), (String) backend.get("name"),
                    ((Number) backend.get("port")).intValue()));
        }
        return Optional.empty();
    }

    @Override
    public void close() {
        if (socket != null) {
            Splice.closeQuietly(socket);
        }
        connections.shutdownNow();
    }
}
