package io.capstan.e2e;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Apache Kafka in KRaft mode for side-by-side measurements: one dedicated controller and {@code n} brokers, each its own
 * process, from the jars bench/kafka-dist assembles from Maven Central. Broker ids are 0..n-1 as Capstan's are.
 */
final class KraftCluster implements AutoCloseable {
    private final Path dir;
    private final String heap;
    private final String classpath;
    private final String clusterId = org.apache.kafka.common.Uuid.randomUuid().toString(); // never starts with '-'
    private final int controllerPort;
    private final long sessionTimeoutMs;
    private Process controller;
    private final List<Process> brokers = new ArrayList<>();
    private final List<Integer> ports = new ArrayList<>();

    KraftCluster(Path dir, String heap, long sessionTimeoutMs) throws IOException {
        Path lib = Path.of("..", "bench", "kafka-dist", "target", "lib").toAbsolutePath().normalize();
        if (!Files.isDirectory(lib)) {
            throw new IllegalStateException("Apache Kafka's jars are not in " + lib + ": run ./mvnw -B -DskipTests install first");
        }
        this.dir = dir;
        this.heap = heap;
        this.classpath = lib + "/*";
        this.controllerPort = freePort();
        this.sessionTimeoutMs = sessionTimeoutMs;
    }

    void start(int n) throws Exception {
        Path c = dir.resolve("controller");
        controller = launch(c, """
                process.roles=controller
                node.id=1000
                controller.quorum.bootstrap.servers=127.0.0.1:%d
                listeners=CONTROLLER://127.0.0.1:%d
                controller.listener.names=CONTROLLER
                listener.security.protocol.map=CONTROLLER:PLAINTEXT
                broker.session.timeout.ms=%d
                log.dirs=%s
                """.formatted(controllerPort, controllerPort, sessionTimeoutMs, c.resolve("data")), true, "1g");
        for (int id = 0; id < n; id++) {
            int port = freePort();
            Path b = dir.resolve("broker-" + id);
            brokers.add(launch(b, """
                    process.roles=broker
                    node.id=%d
                    controller.quorum.bootstrap.servers=127.0.0.1:%d
                    listeners=PLAINTEXT://127.0.0.1:%d
                    advertised.listeners=PLAINTEXT://127.0.0.1:%d
                    inter.broker.listener.name=PLAINTEXT
                    controller.listener.names=CONTROLLER
                    listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
                    broker.heartbeat.interval.ms=%d
                    log.dirs=%s
                    offsets.topic.replication.factor=%d
                    auto.create.topics.enable=false
                    group.initial.rebalance.delay.ms=0
                    """.formatted(id, controllerPort, port, port, sessionTimeoutMs / 3, b.resolve("data"), Math.min(3, n)), false, heap));
            ports.add(port);
        }
        for (int i = 0; i < n; i++) {
            awaitListening(brokers.get(i), ports.get(i), dir.resolve("broker-" + i));
        }
    }

    private Process launch(Path node, String properties, boolean isController, String nodeHeap) throws Exception {
        Files.createDirectories(node);
        Path config = node.resolve("server.properties");
        Files.writeString(config, properties);
        List<String> format = new ArrayList<>(List.of(java(), "-cp", classpath, "kafka.tools.StorageTool", "format",
                "--cluster-id", clusterId, "--config", config.toString()));
        if (isController) {
            format.add("--standalone");
        }
        Process formatting = new ProcessBuilder(format).redirectErrorStream(true).redirectOutput(node.resolve("format.log").toFile()).start();
        if (!formatting.waitFor(120, TimeUnit.SECONDS) || formatting.exitValue() != 0) {
            throw new IllegalStateException("formatting Kafka storage failed; see " + node.resolve("format.log"));
        }
        return new ProcessBuilder(java(), "-Xmx" + nodeHeap, "-Xms" + nodeHeap, "-XX:+UseG1GC", "-cp", classpath, "kafka.Kafka", config.toString())
                .redirectErrorStream(true).redirectOutput(node.resolve("kafka.log").toFile()).start();
    }

    private static void awaitListening(Process process, int port, Path node) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("a Kafka broker exited during start-up; see " + node.resolve("kafka.log"));
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(200); // polling a port that is not open yet; nothing to wait on instead
            }
        }
        throw new IllegalStateException("a Kafka broker did not open port " + port + " within 180 s; see " + node.resolve("kafka.log"));
    }

    /**
     * The last {@code lines} lines of each node's log, for an assertion message: CI keeps the test report, not the
     * temporary directory the logs are in.
     */
    String logTails(int lines) {
        StringBuilder b = new StringBuilder();
        List<Path> nodes = new ArrayList<>(List.of(dir.resolve("controller")));
        for (int i = 0; i < brokers.size(); i++) {
            nodes.add(dir.resolve("broker-" + i));
        }
        for (Path node : nodes) {
            b.append("---- ").append(node.getFileName()).append("/kafka.log\n");
            try {
                List<String> all = Files.readAllLines(node.resolve("kafka.log"), java.nio.charset.StandardCharsets.ISO_8859_1);
                all.subList(Math.max(0, all.size() - lines), all.size()).forEach(l -> b.append(l).append('\n'));
            } catch (IOException e) {
                b.append("(unreadable: ").append(e).append(")\n");
            }
        }
        return b.toString();
    }

    String bootstrap() {
        return String.join(",", ports.stream().map(p -> "127.0.0.1:" + p).toList());
    }

    /** SIGKILL, as the Capstan side's broker gets. */
    void kill(int broker) throws InterruptedException {
        brokers.get(broker).destroyForcibly().waitFor();
    }

    @Override
    public void close() throws InterruptedException {
        for (Process p : brokers) {
            p.destroy();
        }
        for (Process p : brokers) {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
        if (controller != null) {
            controller.destroy();
            if (!controller.waitFor(60, TimeUnit.SECONDS)) {
                controller.destroyForcibly().waitFor();
            }
        }
    }

    private static int freePort() throws IOException {
        return BrokerProcess.freePort();
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
