package io.capstan.e2e.k8s.kubelet;

import io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stands in for kube-proxy (in its old userspace mode) and for a cloud's load-balancer controller, for the Services
 * that reach pods from outside: a NodePort Service's node port is served on the nodes' address (127.0.0.1, which every
 * pod runner's node reports), a LoadBalancer Service is given an address of its own (127.0.250.x, written to its
 * status.loadBalancer as a cloud controller would) and served there on its port. Each connection goes to one of the
 * Service's ready endpoints (its selector's pods), bytes copied both ways. Nothing else reaches the pods this way: ClusterIP Services are left to the test's DNS.
 */
public final class ServiceProxy implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServiceProxy.class);
    private static final String NODE_ADDRESS = "127.0.0.1";

    private final KubernetesClient client;
    private final Map<String, Listening> listening = new ConcurrentHashMap<>();
    private final Map<String, String> loadBalancerAddresses = new ConcurrentHashMap<>();
    private final AtomicInteger nextLoadBalancer = new AtomicInteger(1);
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "service-proxy"));
    private final ExecutorService connections = Executors.newCachedThreadPool(r -> daemon(r, "service-proxy-connection"));

    /** One served address: the Service and port it forwards to. */
    private record Listening(ServerSocket socket, String namespace, String service, ServicePort port) {}

    public ServiceProxy(KubernetesClient client) {
        this.client = client;
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    public ServiceProxy start() {
        loop.scheduleWithFixedDelay(() -> {
            try {
                sync();
            } catch (RuntimeException e) {
                log.warn("service proxy sync failed (will retry): {}", e.toString());
            }
        }, 0, 300, TimeUnit.MILLISECONDS);
        return this;
    }

    private void sync() {
        Set<String> wanted = new HashSet<>();
        for (Service s : client.services().inAnyNamespace().list().getItems()) {
            String type = s.getSpec().getType();
            if (!"NodePort".equals(type) && !"LoadBalancer".equals(type)) {
                continue;
            }
            String key = s.getMetadata().getNamespace() + "/" + s.getMetadata().getName();
            String balancer = "LoadBalancer".equals(type) ? loadBalancerAddress(s, key) : null;
            for (ServicePort port : s.getSpec().getPorts()) {
                if (port.getNodePort() != null) {
                    serve(wanted, NODE_ADDRESS, port.getNodePort(), s, port);
                }
                if (balancer != null) {
                    serve(wanted, balancer, port.getPort(), s, port);
                }
            }
        }
        listening.keySet().removeIf(address -> {
            if (wanted.contains(address)) {
                return false;
            }
            Splice.closeQuietly(listening.get(address).socket());
            return true;
        });
    }

    /** The load balancer's address, given once and written to the Service's status as a cloud controller would. */
    private String loadBalancerAddress(Service s, String key) {
        String address = loadBalancerAddresses.computeIfAbsent(key, k -> "127.0.250." + nextLoadBalancer.getAndIncrement());
        var status = s.getStatus() == null ? null : s.getStatus().getLoadBalancer();
        if (status == null || status.getIngress() == null || status.getIngress().isEmpty()) {
            client.services().inNamespace(s.getMetadata().getNamespace()).withName(s.getMetadata().getName()).editStatus(live -> {
                live.getStatus().setLoadBalancer(new io.fabric8.kubernetes.api.model.LoadBalancerStatusBuilder()
                        .withIngress(new LoadBalancerIngressBuilder().withIp(address).build()).build());
                return live;
            });
            log.info("load balancer {} for Service {}", address, key);
        }
        return address;
    }

    private void serve(Set<String> wanted, String host, int port, Service s, ServicePort servicePort) {
        String address = host + ":" + port;
        wanted.add(address);
        listening.computeIfAbsent(address, a -> {
            try {
                ServerSocket socket = new ServerSocket();
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(InetAddress.getByName(host), port));
                Listening l = new Listening(socket, s.getMetadata().getNamespace(), s.getMetadata().getName(), servicePort);
                connections.execute(() -> accept(l));
                log.info("serving {} for Service {}/{} port {}", address, l.namespace(), l.service(), servicePort.getName());
                return l;
            } catch (IOException e) {
                log.warn("cannot serve {} for Service {}: {}", address, s.getMetadata().getName(), e.toString());
                return null;
            }
        });
    }

    private void accept(Listening l) {
        while (!l.socket().isClosed()) {
            try {
                Socket in = l.socket().accept();
                connections.execute(() -> forward(l, in));
            } catch (IOException e) {
                if (!l.socket().isClosed()) {
                    log.warn("accept on {} failed: {}", l.socket().getLocalSocketAddress(), e.toString());
                }
            }
        }
    }

    /** To a ready endpoint chosen at random, as kube-proxy does; no endpoint: the connection is refused by closing it. */
    private void forward(Listening l, Socket in) {
        List<InetSocketAddress> endpoints = readyEndpoints(l);
        if (endpoints.isEmpty()) {
            log.info("no ready endpoint for Service {}/{}: connection closed", l.namespace(), l.service());
            Splice.closeQuietly(in);
            return;
        }
        InetSocketAddress target = endpoints.get(ThreadLocalRandom.current().nextInt(endpoints.size()));
        try {
            Socket out = new Socket();
            out.connect(target, 5_000);
            connections.execute(() -> Splice.copy(in, out));
            Splice.copy(out, in);
        } catch (IOException e) {
            log.info("cannot reach {} for Service {}/{}: {}", target, l.namespace(), l.service(), e.toString());
            Splice.closeQuietly(in);
        }
    }

    private List<InetSocketAddress> readyEndpoints(Listening l) {
        return ServiceEndpoints.of(client, l.namespace(), l.service(), l.port().getPort()).stream()
                .map(ServiceEndpoints.Endpoint::address).toList();
    }

    @Override
    public void close() {
        loop.shutdownNow();
        listening.values().forEach(l -> Splice.closeQuietly(l.socket()));
        listening.clear();
        connections.shutdownNow();
    }
}
