package io.capstan.bench;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A collector stand-in for bench/run --tracing: accepts OTLP/HTTP trace exports on 127.0.0.1 and counts them, so the
 * traced broker pays for building, encoding and sending its spans as it would to a real collector.
 */
final class OtlpSink {
    private static OtlpSink shared;

    private final HttpServer server;
    private final AtomicLong exports = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();

    private OtlpSink() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/traces", exchange -> {
            try (InputStream in = exchange.getRequestBody()) {
                bytes.addAndGet(in.readAllBytes().length);
                exports.incrementAndGet();
                exchange.sendResponseHeaders(200, -1);
            } finally {
                exchange.close();
            }
        });
        server.start();
    }

    static synchronized OtlpSink shared() {
        if (shared == null) {
            try {
                shared = new OtlpSink();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start the OTLP sink on 127.0.0.1", e);
            }
        }
        return shared;
    }

    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/traces";
    }

    long exports() {
        return exports.get();
    }

    long bytes() {
        return bytes.get();
    }
}
