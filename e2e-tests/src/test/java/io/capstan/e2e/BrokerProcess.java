package io.capstan.e2e;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A broker in its own JVM, started through the real {@code capstan broker} entry point with the test classpath.
 * Ports stay fixed across restarts so clients reconnect to the same address, as they would to a restarted pod.
 */
final class BrokerProcess implements AutoCloseable {
    private final Path dataDir;
    private final Path logFile;
    private final int port;
    private final int adminPort;
    private final Map<String, String> settings;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Process process;
    private int starts;
    private final Map<String, String> environment = new java.util.HashMap<>();
    private String heap = "512m";
    private String classpath = BrokerClassArchive.BROKER_CLASSPATH;
    private List<String> launcher = List.of();
    private String host = "127.0.0.1";

    /** Extra environment for the broker process (KUBECONFIG for a broker on the Kubernetes metadata store). */
    BrokerProcess withEnvironment(Map<String, String> env) {
        environment.putAll(env);
        return this;
    }

    /**
     * Runs the broker through {@code launcher} (such as {@code ip netns exec NS}) listening and advertising on
     * {@code host}, for its Kafka listener and its admin port alike.
     */
    BrokerProcess withNetwork(List<String> launcher, String host) {
        this.launcher = List.copyOf(launcher);
        this.host = host;
        settings.put("listener.host", host);
        return this;
    }

    /** Runs the broker of another build: its CLI's classpath (the version N-1 of an upgrade, e2e-tests/previous/build.sh). */
    BrokerProcess withClasspath(String classpath) {
        this.classpath = classpath;
        return this;
    }

    BrokerProcess withHeap(String maxHeap) {
        heap = maxHeap;
        return this;
    }

    int adminPort() {
        return adminPort;
    }

    BrokerProcess(Path dataDir, Path logDir, Map<String, String> settings) throws IOException {
        this.dataDir = dataDir;
        this.logFile = logDir.resolve("broker.log");
        this.port = freePort();
        this.adminPort = freePort();
        this.settings = new java.util.HashMap<>(settings);
        Files.createDirectories(logDir);
    }

    /**
     * A port free now and below Linux's ephemeral range (32768-60999): a broker keeps its port across restarts, and
     * a port from that range can be taken while it is down by any outgoing connection's local end (CI once saw
     * "Address already in use" on a first start for that reason). Only another listener can take one of these.
     */
    static int freePort() throws IOException {
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        for (int attempt = 0; attempt < 1000; attempt++) {
            int port = random.nextInt(20_000, 32_768);
            try (ServerSocket s = new ServerSocket(port, 50, java.net.InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            } catch (IOException inUse) {
                // taken: try another
            }
        }
        throw new IOException("no free port found between 20000 and 32767");
    }

    String bootstrap() {
        return host + ":" + port;
    }

    int port() {
        return port;
    }

    String host() {
        return host;
    }

    long pid() {
        return process.pid();
    }

    void start() throws IOException {
        List<String> cmd = new ArrayList<>(launcher);
        cmd.addAll(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + heap, "-XX:+UseParallelGC", "-XX:+ExitOnOutOfMemoryError"));
        cmd.addAll(BrokerClassArchive.options(classpath));
        cmd.addAll(List.of(
                "-cp", classpath,
                "io.capstan.cli.Capstan", "broker",
                "--data-dir", dataDir.toString(),
                "--admin-port", String.valueOf(adminPort)));
        if (!settings.containsKey("listeners")) {
            cmd.addAll(List.of("--port", String.valueOf(port)));
        }
        // a listeners setting names the fixed port as {port}, so restarts keep the address
        settings.forEach((k, v) -> {
            cmd.add("--set");
            cmd.add(k + "=" + v.replace("{port}", String.valueOf(port)));
        });
        starts++;
        Files.writeString(logFile, "---- start " + starts + "\n", java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        builder.environment().putAll(environment);
        process = builder.start();
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .failFast("broker process exited", () -> !process.isAlive())
                    .until(this::ready);
        } catch (org.awaitility.core.ConditionTimeoutException | org.awaitility.core.TerminalFailureException e) {
            // CI keeps the surefire report, not target/: the failure carries the broker's own last words
            throw new AssertionError("broker " + (process.isAlive() ? "was not ready within 60 s" : "process exited with status "
                    + process.exitValue()) + " (start " + starts + ", port " + port + ", admin port " + adminPort + "); the end of "
                    + logFile + ":\n" + lastLinesOfThisStart(20), e);
        }
    }

    private String lastLinesOfThisStart(int count) throws IOException {
        List<String> lines = Files.readAllLines(logFile, java.nio.charset.StandardCharsets.ISO_8859_1);
        int from = Math.max(lines.lastIndexOf("---- start " + starts), lines.size() - count);
        return String.join("\n", lines.subList(Math.max(0, from), lines.size()));
    }

    private boolean ready() {
        try {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + adminPort + "/readyz"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** GET of an admin-port path (such as /replicas); the body, or an AssertionError naming the status. */
    String admin(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + adminPort + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new AssertionError("GET " + path + " on broker admin port " + adminPort + " answered " + r.statusCode() + ": " + r.body());
        }
        return r.body();
    }

    Path dataDir() {
        return dataDir;
    }

    /** SIGKILL: no shutdown hook, no flush; a process crash (the page cache survives it, so not a power cut). */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** Waits for the process to end on its own; its exit status. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
            throw new AssertionError("broker process still running after " + timeout + "; see " + logFile);
        }
        return process.exitValue();
    }

    /** SIGTERM and wait: the orderly shutdown path. */
    void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    /** The bootstrap list naming every one of {@code brokers}. */
    static String bootstrap(BrokerProcess... brokers) {
        return java.util.Arrays.stream(brokers).map(b -> b.bootstrap()).collect(java.util.stream.Collectors.joining(","));
    }

    /** Stops each of {@code brokers} that was started (null entries were not). */
    static void stopAll(BrokerProcess... brokers) throws InterruptedException {
        for (BrokerProcess b : brokers) {
            if (b != null) {
                b.close();
            }
        }
    }

    Path logFile() {
        return logFile;
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
