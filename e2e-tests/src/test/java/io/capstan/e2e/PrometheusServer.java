package io.capstan.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A real Prometheus server (built from its Go module by e2e-tests/prometheus/build.sh) scraping static targets every
 * second and evaluating rule files, queried over its HTTP API.
 */
final class PrometheusServer implements AutoCloseable {
    static final Path BIN = Path.of("..", ".cache", "prometheus", "v0.316.0", "bin").toAbsolutePath().normalize();

    private final Process process;
    private final int port;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final ObjectMapper json = new ObjectMapper();

    /** A scrape target: host:port serving /metrics, and the labels its series get (as a ServiceMonitor would give pod and namespace). */
    record Target(String address, Map<String, String> labels) {}

    /** Where a Prometheus tool is; fails, saying how to build it, when it is not there. */
    static Path binary(String name) {
        Path binary = BIN.resolve(name);
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException(binary + " is missing: build it with e2e-tests/prometheus/build.sh (the e2e build runs it"
                    + " before the control-plane suites: ./mvnw verify)");
        }
        return binary;
    }

    private PrometheusServer(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    static PrometheusServer start(Path dir, String job, List<Target> targets, List<Path> ruleFiles) throws IOException {
        Files.createDirectories(dir);
        StringBuilder config = new StringBuilder("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n");
        if (!ruleFiles.isEmpty()) {
            config.append("rule_files:\n");
            ruleFiles.forEach(f -> config.append("  - ").append(f.toAbsolutePath()).append('\n'));
        }
        config.append("scrape_configs:\n  - job_name: ").append(job).append("\n    static_configs:\n");
        for (Target t : targets) {
            config.append("      - targets: ['").append(t.address()).append("']\n        labels:\n");
            t.labels().forEach((k, v) -> config.append("          ").append(k).append(": '").append(v).append("'\n"));
        }
        Path file = Files.writeString(dir.resolve("prometheus.yml"), config);
        int port = BrokerProcess.freePort();
        Process p = new ProcessBuilder(binary("prometheus").toString(), "--config.file=" + file, "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port, "--log.level=warn")
                .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
        PrometheusServer server = new PrometheusServer(p, port);
        org.awaitility.Awaitility.await("Prometheus ready (" + dir.resolve("prometheus.log") + ")").atMost(Duration.ofMinutes(1))
                .pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
                    if (!p.isAlive()) {
                        throw new AssertionError("Prometheus exited: " + Files.readString(dir.resolve("prometheus.log")));
                    }
                    return server.get("/-/ready").statusCode() == 200;
                });
        return server;
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The API's answer to {@code path}: its data, or an AssertionError with Prometheus's error. */
    JsonNode api(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = get(path);
        JsonNode body = json.readTree(r.body());
        if (!"success".equals(body.path("status").asText())) {
            throw new AssertionError("Prometheus answered " + r.statusCode() + " to " + path + ": " + r.body());
        }
        return body.path("data");
    }

    /** An instant query's result: one element per series. */
    JsonNode query(String promql) throws IOException, InterruptedException {
        return api("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)).path("result");
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
