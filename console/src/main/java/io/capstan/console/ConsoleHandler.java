package io.capstan.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web console of one cluster: a page (HTML, script and style from the classpath, nothing fetched from elsewhere)
 * and the JSON it reads, at paths relative to wherever it is mounted ({@link ConsoleServer} at the root, the
 * operator's console under each BrokerCluster's own path). Read-only unless made with actions allowed; an action is a
 * POST carrying the {@code X-Capstan-Action} header, which a page of another origin cannot send without this server's
 * consent (it gives none), and the broker's ACLs still decide for the console's principal.
 */
public final class ConsoleHandler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConsoleHandler.class);
    private static final Map<String, String> STATIC = Map.of("/", "index.html", "/index.html", "index.html",
            "/console.js", "console.js", "/console.css", "console.css");

    private final Admin admin;
    private final ClusterReader reader;
    private final boolean actionsAllowed;
    private final History history = new History(120);
    /** The last sample: what every page load shows, so that open pages do not each sweep the cluster again. */
    private volatile Snapshot latest;
    private final ObjectMapper json = new ObjectMapper();
    private final Supplier<Rollout> rollout;
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "console-sampler");
        t.setDaemon(true);
        return t;
    });

    /** {@code rollout}: the BrokerCluster's rollout state for the Rollout page, or null (no such page). */
    public ConsoleHandler(Admin admin, long timeoutMs, boolean actionsAllowed, long sampleMs, Supplier<Rollout> rollout) {
        this.admin = admin;
        this.reader = new ClusterReader(admin, timeoutMs);
        this.actionsAllowed = actionsAllowed;
        this.rollout = rollout;
        sampler.scheduleWithFixedDelay(this::sample, 0, sampleMs, TimeUnit.MILLISECONDS);
    }

    private void sample() {
        try {
            refresh();
        } catch (Exception e) {
            log.warn("reading the cluster for the charts failed, trying again at the next sample: {}", e.toString());
        }
    }

    private synchronized Snapshot refresh() throws Exception {
        Snapshot s = reader.read();
        history.add(s);
        latest = s;
        return s;
    }

    /** Answers a request for {@code path}, relative to where the console is mounted (starting with "/"). */
    public void handle(HttpExchange exchange, String path) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            exchange.getResponseHeaders().add("X-Content-Type-Options", "nosniff");
            exchange.getResponseHeaders().add("Content-Security-Policy", "default-src 'self'");
            if (method.equals("GET") && STATIC.containsKey(path)) {
                serveStatic(exchange, STATIC.get(path));
            } else if (method.equals("GET") && path.equals("/api/snapshot")) {
                Snapshot s = latest;
                Map<String, Object> body = new java.util.LinkedHashMap<>();
                body.put("snapshot", s != null ? s : refresh());
                body.put("actionsAllowed", actionsAllowed);
                if (rollout != null) {
                    body.put("rollout", rollout.get());
                }
                send(exchange, 200, body);
            } else if (method.equals("GET") && path.equals("/api/history")) {
                send(exchange, 200, history.series());
            } else if (method.equals("POST") && path.startsWith("/api/groups/")) {
                act(exchange, path.substring("/api/groups/".length()));
            } else {
                send(exchange, 404, Map.of("error", "no such page: " + method + " " + path));
            }
        } catch (Exception e) {
            log.warn("console request failed: {}", e.toString());
            try {
                send(exchange, 502, Map.of("error", "the brokers refused or did not answer: " + e.getMessage()));
            } catch (IOException ignored) {
                // the browser went away
            }
        }
    }

    /** {@code <group>/delete} or {@code <group>/reset-to-earliest} / {@code reset-to-latest} (the group must be empty). */
    private void act(HttpExchange exchange, String rest) throws Exception {
        if (!actionsAllowed) {
            send(exchange, 403, Map.of("error", "the console is read-only; start it with --allow-actions to delete groups or reset offsets"));
            return;
        }
        if (exchange.getRequestHeaders().getFirst("X-Capstan-Action") == null) {
            send(exchange, 403, Map.of("error", "an action needs the X-Capstan-Action header (the console's page sends it)"));
            return;
        }
        int slash = rest.lastIndexOf('/');
        String group = java.net.URLDecoder.decode(slash < 0 ? rest : rest.substring(0, slash), StandardCharsets.UTF_8);
        String action = slash < 0 ? "" : rest.substring(slash + 1);
        switch (action) {
            case "delete" -> {
                admin.deleteConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS);
                refresh();
                send(exchange, 200, Map.of("deleted", group));
            }
            case "reset-to-earliest", "reset-to-latest" -> {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
                Map<TopicPartition, OffsetSpec> specs = new java.util.HashMap<>();
                committed.keySet().forEach(tp -> specs.put(tp, action.endsWith("earliest") ? OffsetSpec.earliest() : OffsetSpec.latest()));
                Map<TopicPartition, OffsetAndMetadata> target = new java.util.HashMap<>();
                admin.listOffsets(specs).all().get(30, TimeUnit.SECONDS).forEach((tp, o) -> target.put(tp, new OffsetAndMetadata(o.offset())));
                admin.alterConsumerGroupOffsets(group, target).all().get(30, TimeUnit.SECONDS);
                refresh();
                send(exchange, 200, Map.of("reset", group, "partitions", target.size()));
            }
            default -> send(exchange, 404, Map.of("error", "unknown action '" + action + "': delete, reset-to-earliest or reset-to-latest"));
        }
    }

    private void serveStatic(HttpExchange exchange, String name) throws IOException {
        try (InputStream in = ConsoleHandler.class.getResourceAsStream("/console/" + name)) {
            if (in == null) {
                send(exchange, 500, Map.of("error", "the console's " + name + " is missing from the jar"));
                return;
            }
            byte[] body = in.readAllBytes();
            String type = name.endsWith(".html") ? "text/html" : name.endsWith(".js") ? "text/javascript" : "text/css";
            exchange.getResponseHeaders().add("Content-Type", type + "; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
        }
    }

    private void send(HttpExchange exchange, int status, Object body) throws IOException {
        byte[] bytes = json.writeValueAsBytes(body);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.getResponseHeaders().add("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        sampler.shutdownNow();
    }
}
