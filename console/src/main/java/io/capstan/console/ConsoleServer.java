package io.capstan.console;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.clients.admin.Admin;

/** The console of one cluster at the root of its own HTTP server: what {@code capstan console} serves. */
public final class ConsoleServer implements AutoCloseable {
    private final ConsoleHandler console;
    private final HttpServer server;

    public ConsoleServer(Admin admin, long timeoutMs, String host, int port, boolean actionsAllowed, long sampleMs) throws IOException {
        this.console = new ConsoleHandler(admin, timeoutMs, actionsAllowed, sampleMs, null);
        this.server = HttpServer.create(new InetSocketAddress(host, port), 0);
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "console-http");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", exchange -> console.handle(exchange, exchange.getRequestURI().getPath()));
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        console.close();
        server.stop(0);
        ((ExecutorService) server.getExecutor()).shutdownNow();
    }
}
