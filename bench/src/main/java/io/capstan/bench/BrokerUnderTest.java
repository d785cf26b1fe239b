package io.capstan.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** One broker process of a benchmark run, on fresh storage, with the same heap for every kind. */
public final class BrokerUnderTest implements AutoCloseable {
    private static final String HEAP = "-Xmx1g";

    private final BrokerKind kind;
    private final Process process;
    private final int port;
    private final Path dir;

    private BrokerUnderTest(BrokerKind kind, Process process, int port, Path dir) {
        this.kind = kind;
        this.process = process;
        this.port = port;
        this.dir = dir;
    }

    public static BrokerUnderTest start(BrokerKind kind, Path workDir, Classpaths classpaths) throws Exception {
        Path dir = workDir.resolve(kind.name().toLowerCase() + "-" + System.nanoTime());
        Files.createDirectories(dir);
        int port = freePort();
        Process p = kind == BrokerKind.CAPSTAN ? startCapstan(dir, port, classpaths) : startKafka(kind, dir, port, classpaths);
        BrokerUnderTest broker = new BrokerUnderTest(kind, p, port, dir);
        broker.awaitListening(dir);
        return broker;
    }

    private static Process startCapstan(Path dir, int port, Classpaths cp) throws IOException {
        List<String> cmd = List.of(java(), HEAP, "-cp", cp.capstan(), "io.capstan.cli.Capstan", "broker",
                "--data-dir", dir.resolve("data").toString(), "--port", String.valueOf(port), "--admin-port", "-1",
                "--set", "group.initial.rebalance.delay.ms=0", "--set", "disk.min.free.bytes=0");
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("broker.log").toFile()).start();
    }

    private static Process startKafka(BrokerKind kind, Path dir, int port, Classpaths cp) throws Exception {
        int controller = freePort();
        StringBuilder props = new StringBuilder()
                .append("process.roles=broker,controller\nnode.id=1\n")
                .append("controller.quorum.bootstrap.servers=127.0.0.1:").append(controller).append('\n')
                .append("listeners=PLAINTEXT://127.0.0.1:").append(port).append(",CONTROLLER://127.0.0.1:").append(controller).append('\n')
                .append("advertised.listeners=PLAINTEXT://127.0.0.1:").append(port).append('\n')
                .append("controller.listener.names=CONTROLLER\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n")
                .append("log.dirs=").append(dir.resolve("logs")).append('\n')
                .append("offsets.topic.replication.factor=1\ntransaction.state.log.replication.factor=1\ntransaction.state.log.min.isr=1\n")
                .append("group.initial.rebalance.delay.ms=0\nauto.create.topics.enable=false\n");
        if (kind == BrokerKind.KAFKA_FSYNC) {
            props.append("log.flush.interval.messages=1\n");
        }
        Path config = dir.resolve("server.properties");
        Files.writeString(config, props);
        Process format = new ProcessBuilder(java(), "-cp", cp.kafka(), "kafka.tools.StorageTool", "format",
                "--cluster-id", clusterId(), "--config", config.toString(), "--standalone")
                .redirectErrorStream(true).redirectOutput(dir.resolve("format.log").toFile()).start();
        if (!format.waitFor(120, TimeUnit.SECONDS) || format.exitValue() != 0) {
            throw new IllegalStateException("formatting Kafka storage failed; see " + dir.resolve("format.log"));
        }
        return new ProcessBuilder(java(), HEAP, "-Xms1g", "-XX:+UseG1GC", "-cp", cp.kafka(), "kafka.Kafka", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("broker.log").toFile()).start();
    }

    /** A base64 UUID as KRaft expects, not starting with '-' (the storage tool would read it as an option). */
    private static String clusterId() {
        while (true) {
            UUID u = UUID.randomUUID();
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
            String id = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
            if (Character.isLetterOrDigit(id.charAt(0))) {
                return id;
            }
        }
    }

    private void awaitListening(Path dir) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(kind + " exited during start-up; see " + dir.resolve("broker.log"));
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(200); // polling a port that is not open yet; nothing to wait on instead
            }
        }
        throw new IllegalStateException(kind + " did not open port " + port + " within 120 s; see " + dir.resolve("broker.log"));
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    public BrokerKind kind() { return kind; }
    public String bootstrap() { return "127.0.0.1:" + port; }
    public long pid() { return process.pid(); }
    public ProcStats stats() { return ProcStats.of(process.pid()); }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        deleteData();
    }

    /** Drops the broker's data (gigabytes per run) but keeps its logs for reading afterwards. */
    private void deleteData() {
        for (String sub : List.of("data", "logs")) {
            Path data = dir.resolve(sub);
            if (!Files.exists(data)) {
                continue;
            }
            try (var paths = Files.walk(data)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                System.err.println("could not delete " + data + ": " + e.getMessage());
            }
        }
    }

    /** Where the two brokers' classes come from. */
    public record Classpaths(String capstan, String kafka) {
        public static Classpaths detect(Path repoRoot) {
            Path kafkaLib = repoRoot.resolve("bench/kafka-dist/target/lib");
            if (!Files.isDirectory(kafkaLib)) {
                throw new IllegalStateException("Apache Kafka jars not found in " + kafkaLib + ": run ./mvnw -B -DskipTests package first");
            }
            return new Classpaths(System.getProperty("java.class.path"), kafkaLib + "/*");
        }
    }

    static List<String> args(String... a) {
        return new ArrayList<>(List.of(a));
    }
}
