package io.capstan.e2e;

import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * An Apache Kafka Connect worker in distributed mode, in its own JVM, from Kafka's own jars (bench/connect-dist, 4.3.1): its
 * REST API creates connectors, and it keeps its configs, offsets and statuses in compacted topics of the cluster.
 */
final class ConnectWorker implements AutoCloseable {
    static final Path LIB = Path.of("..", "bench", "connect-dist", "target", "lib");

    private final Path config;
    private final Path log;
    private final int restPort;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Process process;

    /** {@code dir} holds its settings; {@code log} its output (kept after the test). */
    ConnectWorker(Path dir, Path log, String bootstrap, Map<String, String> overrides) throws IOException {
        Files.createDirectories(dir);
        Files.createDirectories(log.getParent());
        this.restPort = BrokerProcess.freePort();
        this.config = dir.resolve("worker.properties");
        this.log = log;
        Map<String, String> settings = new java.util.TreeMap<>(Map.ofEntries(
                Map.entry("bootstrap.servers", bootstrap),
                Map.entry("group.id", "capstan-connect"),
                Map.entry("key.converter", "org.apache.kafka.connect.storage.StringConverter"),
                Map.entry("value.converter", "org.apache.kafka.connect.storage.StringConverter"),
                Map.entry("config.storage.topic", "connect-configs"),
                Map.entry("offset.storage.topic", "connect-offsets"),
                Map.entry("status.storage.topic", "connect-status"),
                Map.entry("config.storage.replication.factor", "3"),
                Map.entry("offset.storage.replication.factor", "3"),
                Map.entry("status.storage.replication.factor", "3"),
                Map.entry("offset.flush.interval.ms", "1000"),
                Map.entry("listeners", "http://127.0.0.1:" + restPort)));
        settings.putAll(overrides);
        Files.writeString(config, settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining("\n")));
    }

    ConnectWorker start() throws IOException {
        Files.writeString(log, "---- start\n", java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx384m",
                "-cp", LIB.toAbsolutePath() + File.separator + "*", "org.apache.kafka.connect.cli.ConnectDistributed", config.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        await("Connect's REST API").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250))
                .failFast("the Connect worker exited; see " + log, () -> !process.isAlive())
                .until(() -> get("/connectors").statusCode() == 200);
        return this;
    }

    /** Creates a connector (POST /connectors) and waits until it and its tasks run. */
    void create(String name, Map<String, String> connectorConfig) throws Exception {
        String json = "{\"name\":\"" + name + "\",\"config\":{" + connectorConfig.entrySet().stream()
                .map(e -> "\"" + e.getKey() + "\":\"" + e.getValue() + "\"").collect(Collectors.joining(",")) + "}}";
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + restPort + "/connectors"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) {
            throw new AssertionError("creating connector " + name + " answered " + r.statusCode() + ": " + r.body() + "; see " + log);
        }
        awaitRunning(name);
    }

    /** Waits until the connector and one task report RUNNING. */
    void awaitRunning(String name) {
        await("connector " + name + " running").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250))
                .failFast("the Connect worker exited; see " + log, () -> !process.isAlive())
                .until(() -> {
                    String status = get("/connectors/" + name + "/status").body();
                    return status.contains("\"connector\":{\"state\":\"RUNNING\"") && status.contains("\"tasks\":[{\"id\":0,\"state\":\"RUNNING\"");
                });
    }

    List<String> connectors() throws Exception {
        String body = get("/connectors").body();
        return body.equals("[]") ? List.of() : List.of(body.replaceAll("[\\[\\]\"]", "").split(","));
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + restPort + path)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (java.net.ConnectException e) {
            return new NoResponse();
        }
    }

    Path log() {
        return log;
    }

    /** SIGTERM and wait: the worker stops its tasks, commits their offsets and leaves its group. */
    void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    /** What {@link #get} returns while nothing listens yet. */
    private static final class NoResponse implements HttpResponse<String> {
        public int statusCode() { return -1; }
        public HttpRequest request() { return null; }
        public java.util.Optional<HttpResponse<String>> previousResponse() { return java.util.Optional.empty(); }
        public java.net.http.HttpHeaders headers() { return java.net.http.HttpHeaders.of(Map.of(), (a, b) -> true); }
        public String body() { return ""; }
        public java.util.Optional<javax.net.ssl.SSLSession> sslSession() { return java.util.Optional.empty(); }
        public URI uri() { return null; }
        public HttpClient.Version version() { return HttpClient.Version.HTTP_1_1; }
    }
}
