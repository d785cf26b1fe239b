package io.capstan.broker.admin;

import io.capstan.cluster.DaemonThreads;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * The broker's HTTP port: /metrics (Prometheus), /healthz (alive and able to write: 503 after a fatal error), /readyz (recovered and serving), and
 * routes other parts add (a cluster member adds /restart-safety). Reads are open to anyone who can reach the port;
 * actions (anything that changes the broker's state, such as /controlled-shutdown) answer only POST with the bearer
 * token of {@link AdminToken}.
 */
public final class AdminServer implements AutoCloseable {
    private final HttpServer server;

    /** An answer to a GET. */
    public record Reply(int status, String contentType, String body) {}

    private final AdminToken token;

    /**
     * {@code live}: false once the broker has failed for good (/healthz 503, so a supervisor restarts it);
     * {@code tokenFile}: the bearer token actions need (null: none); {@code secured}: the Kafka listeners authenticate.
     */
    public AdminServer(String host, int port, PrometheusRegistry registry, BooleanSupplier live, BooleanSupplier ready,
                       java.nio.file.Path tokenFile, boolean secured) {
        this.token = new AdminToken(tokenFile, secured);
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 16);
        } catch (IOException e) {
            throw new IllegalStateException("cannot open the admin port " + host + ":" + port + ": " + e.getMessage()
                    + " (set admin.port to a free port, or -1 to disable)", e);
        }
        server.createContext("/metrics", new MetricsHandler(registry));
        server.createContext("/healthz", ex -> {
            boolean ok = live.getAsBoolean();
            reply(ex, ok ? 200 : 503, ok ? "ok\n" : "failed: see the broker's log\n");
        });
        server.createContext("/readyz", ex -> {
            boolean ok = ready.getAsBoolean();
            reply(ex, ok ? 200 : 503, ok ? "ready\n" : "recovering\n");
        });
        server.setExecutor(Executors.newFixedThreadPool(2, DaemonThreads.named("capstan-admin-http")));
        server.start();
    }

    /** Serves {@code path} (a read: GET or HEAD) with whatever {@code handler} answers at the time of each request. */
    public void route(String path, java.util.function.Supplier<Reply> handler) {
        server.createContext(path, ex -> {
            if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
                ex.getResponseHeaders().set("Allow", "GET");
                reply(ex, 405, path + " is read-only: use GET\n");
                return;
            }
            run(ex, handler);
        });
    }

    /**
     * Serves {@code path} as an action: POST only, and only with the admin token. A GET (a browser, a crawler, a
     * mistyped probe) changes nothing.
     */
    public void action(String path, java.util.function.Supplier<Reply> handler) {
        server.createContext(path, ex -> {
            if (!ex.getRequestMethod().equals("POST")) {
                ex.getResponseHeaders().set("Allow", "POST");
                reply(ex, 405, path + " changes the broker: use POST with Authorization: Bearer <admin token>\n");
                return;
            }
            switch (token.check(ex.getRequestHeaders().getFirst("Authorization"))) {
                case ALLOWED -> run(ex, handler);
                case MISSING_OR_WRONG -> {
                    ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
                    reply(ex, 401, "missing or wrong bearer token (the one in admin.token.file)\n");
                }
                case NOT_CONFIGURED -> reply(ex, 403, path + " is disabled: this broker's listeners are secured and admin.token.file"
                        + " is not set (or unreadable); set it to a file holding a token and send Authorization: Bearer <token>\n");
            }
        });
    }

    private static void run(HttpExchange ex, java.util.function.Supplier<Reply> handler) throws IOException {
        Reply r;
        try {
            r = handler.get();
        } catch (RuntimeException e) {
            r = new Reply(500, "text/plain", "error: " + e.getMessage() + "\n");
        }
        reply(ex, r.status(), r.contentType(), r.body());
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        reply(exchange, status, "text/plain", body);
    }

    private static void reply(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType + "; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
