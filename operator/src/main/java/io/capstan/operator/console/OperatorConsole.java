package io.capstan.operator.console;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.capstan.console.ConsoleHandler;
import io.capstan.operator.api.BrokerCluster;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web console of every BrokerCluster this operator runs, on its own port (the chart's {@code console.enabled}):
 * {@code /} lists the clusters, {@code /clusters/<namespace>/<name>/} is the console of one, with a Rollout page
 * showing what this operator reports in the cluster's status. The brokers are read as the operator reads them (over
 * the replication listener with its certificate when the cluster is secured), so this console is read-only: an action
 * through it would bypass the brokers' ACLs. A cluster's console is made at its first request and dropped after
 * {@link #IDLE_MS} without one, so no cluster is sampled that nobody looks at.
 */
public final class OperatorConsole implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OperatorConsole.class);
    static final long IDLE_MS = 10 * 60_000;
    private static final long SAMPLE_MS = 5_000;
    private static final long TIMEOUT_MS = 10_000;

    private final KubernetesClient client;
    private final Function<BrokerCluster, Admin> admins;
    private final Set<String> namespaces;
    private final Map<ClusterPath, Mounted> mounted = new ConcurrentHashMap<>();
    private final HttpServer server;
    private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "console-sweeper");
        t.setDaemon(true);
        return t;
    });

    private record Mounted(Admin admin, ConsoleHandler console, long[] lastUsedMs) {
        void close() {
            console.close();
            admin.close(java.time.Duration.ofSeconds(5));
        }
    }

    /** {@code namespaces}: those the operator watches (empty: all). */
    public OperatorConsole(KubernetesClient client, Function<BrokerCluster, Admin> admins, Set<String> namespaces, int port) throws IOException {
        this.client = client;
        this.admins = admins;
        this.namespaces = namespaces;
        this.server = HttpServer.create(new InetSocketAddress(port), 16);
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "console-http");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::route);
        server.start();
        sweeper.scheduleWithFixedDelay(this::dropIdle, 1, 1, TimeUnit.MINUTES);
        log.info("web console of the BrokerClusters on port {}", server.getAddress().getPort());
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private void route(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        try {
            if (path.equals("/")) {
                index(exchange);
                return;
            }
            ClusterPath cluster = ClusterPath.parse(path);
            if (cluster == null) {
                reply(exchange, 404, "text/plain", "no such page: " + path + "; the consoles are at /clusters/<namespace>/<name>/\n");
                return;
            }
            if (cluster.rest().isEmpty()) {
                // the page's addresses are relative to the cluster's own path
                exchange.getResponseHeaders().add("Location", path + "/");
                reply(exchange, 301, "text/plain", "");
                return;
            }
            BrokerCluster found = watched(cluster.namespace()) ? client.resources(BrokerCluster.class).inNamespace(cluster.namespace())
                    .withName(cluster.name()).get() : null;
            if (found == null) {
                Mounted gone = mounted.remove(cluster.key());
                if (gone != null) {
                    gone.close();
                }
                reply(exchange, 404, "text/plain", "no BrokerCluster " + cluster.namespace() + "/" + cluster.name()
                        + " that this operator runs; see / for those it does\n");
                return;
            }
            Mounted m = mounted.computeIfAbsent(cluster.key(), k -> mount(found));
            m.lastUsedMs()[0] = System.currentTimeMillis();
            m.console().handle(exchange, cluster.rest());
        } catch (RuntimeException e) {
            log.warn("console request {} failed: {}", path, e.toString());
            reply(exchange, 502, "text/plain", "the console could not read the cluster: " + e.getMessage() + "\n");
        }
    }

    private Mounted mount(BrokerCluster cluster) {
        String namespace = cluster.getMetadata().getNamespace();
        String name = cluster.getMetadata().getName();
        Admin admin = admins.apply(cluster);
        ConsoleHandler console = new ConsoleHandler(admin, TIMEOUT_MS, false, SAMPLE_MS, () -> {
            BrokerCluster now = client.resources(BrokerCluster.class).inNamespace(namespace).withName(name).get();
            return now == null ? null : RolloutView.of(now);
        });
        return new Mounted(admin, console, new long[] {System.currentTimeMillis()});
    }

    private boolean watched(String namespace) {
        return namespaces.isEmpty() || namespaces.contains(namespace);
    }

    private void index(HttpExchange exchange) throws IOException {
        List<BrokerCluster> clusters = namespaces.isEmpty() ? client.resources(BrokerCluster.class).inAnyNamespace().list().getItems()
                : namespaces.stream().flatMap(ns -> client.resources(BrokerCluster.class).inNamespace(ns).list().getItems().stream()).toList();
        StringBuilder html = new StringBuilder("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Capstan clusters</title>"
                + "</head><body><h1>BrokerClusters</h1><ul>");
        for (BrokerCluster c : clusters) {
            String ns = escape(c.getMetadata().getNamespace());
            String name = escape(c.getMetadata().getName());
            html.append("<li><a href=\"clusters/").append(ns).append('/').append(name).append("/\">").append(ns).append('/').append(name)
                    .append("</a></li>");
        }
        html.append("</ul>").append(clusters.isEmpty() ? "<p>No BrokerCluster yet.</p>" : "").append("</body></html>");
        reply(exchange, 200, "text/html; charset=utf-8", html.toString());
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static void reply(HttpExchange exchange, int status, String type, String body) throws IOException {
        try (exchange) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", type);
            exchange.getResponseHeaders().add("Content-Security-Policy", "default-src 'self'");
            exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
            if (bytes.length > 0) {
                exchange.getResponseBody().write(bytes);
            }
        }
    }

    private void dropIdle() {
        long now = System.currentTimeMillis();
        mounted.entrySet().removeIf(e -> {
            boolean idle = now - e.getValue().lastUsedMs()[0] > IDLE_MS;
            if (idle) {
                e.getValue().close();
            }
            return idle;
        });
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        server.stop(0);
        ((ExecutorService) server.getExecutor()).shutdownNow();
        mounted.values().forEach(Mounted::close);
        mounted.clear();
    }
}
