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
    /** The broker's command line: {@link #restart} runs it again on the same storage. */
    private final List<String> command;
    private Process process;
    private final int port;
    private final Path dir;
    private final Path clientConfig;

    private BrokerUnderTest(BrokerKind kind, List<String> command, int port, Path dir, Path clientConfig) throws IOException {
        this.kind = kind;
        this.command = command;
        this.port = port;
        this.dir = dir;
        this.clientConfig = clientConfig;
        this.process = launch();
    }

    private Process launch() throws IOException {
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("broker.log").toFile())).start();
    }

    public static BrokerUnderTest start(BrokerKind kind, Path workDir, Classpaths classpaths) throws Exception {
        Path dir = workDir.resolve(kind.name().toLowerCase() + "-" + System.nanoTime());
        Files.createDirectories(dir);
        int port = freePort();
        TlsFixture tls = kind.secured() ? new TlsFixture(workDir.resolve("tls")) : null;
        List<String> command = kind.capstan() ? capstanCommand(kind, dir, port, classpaths, tls) : kafkaCommand(kind, dir, port, classpaths, tls);
        BrokerUnderTest broker = new BrokerUnderTest(kind, command, port, dir, tls == null ? null : tls.clientConfig);
        broker.awaitListening();
        return broker;
    }

    /**
     * SIGKILL, then the same command on the same storage, as after a crash of the process (the page cache survives: this
     * is the broker's recovery of an unclean shutdown, not of a machine's). Returns when the new process has started,
     * with the time of its start ({@link System#nanoTime}).
     */
    public long killAndRestart() throws Exception {
        HeapAllocation.forget(process.pid());
        process.destroyForcibly();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException(kind + " did not exit within 60 s of SIGKILL");
        }
        long startedAt = System.nanoTime();
        process = launch();
        return startedAt;
    }

    /** Settings every Capstan broker of the run gets ({@code bench/run --capstan-set key=value}), for A/B runs of one setting. */
    static final List<String> EXTRA_CAPSTAN_SETTINGS = new ArrayList<>();

    private static List<String> capstanCommand(BrokerKind kind, Path dir, int port, Classpaths cp, TlsFixture tls) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(java(), HEAP, "-cp", cp.capstan(), "io.capstan.cli.Capstan", "broker",
                "--data-dir", dir.resolve("data").toString(), "--admin-port", "-1",
                "--set", "group.initial.rebalance.delay.ms=0", "--set", "disk.min.free.bytes=0"));
        for (String setting : EXTRA_CAPSTAN_SETTINGS) {
            cmd.addAll(List.of("--set", setting));
        }
        if (kind == BrokerKind.CAPSTAN_INLINE) {
            cmd.addAll(List.of("--set", "log.data.files=false"));
        }
        if (kind == BrokerKind.CAPSTAN_TRACED) {
            cmd.addAll(List.of("--set", "tracing.otlp.endpoint=" + OtlpSink.shared().endpoint(), "--set", "tracing.sampling.ratio=0.01"));
        }
        if (tls == null) {
            cmd.addAll(List.of("--port", String.valueOf(port)));
        } else {
            tls.createCapstanUser(dir.resolve("data"));
            for (String setting : List.of("listeners=SASL_SSL://127.0.0.1:" + port, "sasl.enabled.mechanisms=SCRAM-SHA-512",
                    "ssl.keystore.type=PEM", "ssl.keystore.location=" + tls.brokerPem, "ssl.truststore.type=PEM",
                    "ssl.truststore.location=" + tls.caPem)) {
                cmd.addAll(List.of("--set", setting));
            }
        }
        return cmd;
    }

    private static List<String> kafkaCommand(BrokerKind kind, Path dir, int port, Classpaths cp, TlsFixture tls) throws Exception {
        int controller = freePort();
        String listener = tls == null ? "PLAINTEXT" : "SASL_SSL";
        StringBuilder props = new StringBuilder()
                .append("process.roles=broker,controller\nnode.id=1\n")
                .append("controller.quorum.bootstrap.servers=127.0.0.1:").append(controller).append('\n')
                .append("listeners=").append(listener).append("://127.0.0.1:").append(port).append(",CONTROLLER://127.0.0.1:").append(controller).append('\n')
                .append("advertised.listeners=").append(listener).append("://127.0.0.1:").append(port).append('\n')
                .append("inter.broker.listener.name=").append(listener).append('\n')
                .append("controller.listener.names=CONTROLLER\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT\n")
                .append("log.dirs=").append(dir.resolve("logs")).append('\n')
                .append("offsets.topic.replication.factor=1\ntransaction.state.log.replication.factor=1\ntransaction.state.log.min.isr=1\n")
                .append("group.initial.rebalance.delay.ms=0\nauto.create.topics.enable=false\n");
        if (kind == BrokerKind.KAFKA_FSYNC) {
            props.append("log.flush.interval.messages=1\n");
        }
        List<String> format = new ArrayList<>(List.of(java(), "-cp", cp.kafka(), "kafka.tools.StorageTool", "format",
                "--cluster-id", clusterId(), "--standalone"));
        if (tls != null) {
            props.append("sasl.enabled.mechanisms=SCRAM-SHA-512\nsasl.mechanism.inter.broker.protocol=SCRAM-SHA-512\n")
                    .append("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=").append(TlsFixture.jaas()).append('\n')
                    .append("ssl.keystore.type=PEM\nssl.keystore.location=").append(tls.brokerPem).append('\n')
                    .append("ssl.truststore.type=PEM\nssl.truststore.location=").append(tls.caPem).append('\n');
            format.addAll(List.of("--add-scram", "SCRAM-SHA-512=[name=" + TlsFixture.USER + ",password=" + TlsFixture.PASSWORD + "]"));
        }
        Path config = dir.resolve("server.properties");
        Files.writeString(config, props);
        format.addAll(List.of("--config", config.toString()));
        Process formatting = new ProcessBuilder(format)
                .redirectErrorStream(true).redirectOutput(dir.resolve("format.log").toFile()).start();
        if (!formatting.waitFor(120, TimeUnit.SECONDS) || formatting.exitValue() != 0) {
            throw new IllegalStateException("formatting Kafka storage failed; see " + dir.resolve("format.log"));
        }
        return List.of(java(), HEAP, "-Xms1g", "-XX:+UseG1GC", "-cp", cp.kafka(), "kafka.Kafka", config.toString());
    }

    /** A base64 UUID as KRaft expects, not starting with '-' (the storage tool would read it as an option). */
    static String clusterId() {
        while (true) {
            UUID u = UUID.randomUUID();
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
            String id = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
            if (Character.isLetterOrDigit(id.charAt(0))) {
                return id;
            }
        }
    }

    /** Waits until the broker's port accepts a connection; returns when it did ({@link System#nanoTime}). */
    public long awaitListening() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(600);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(kind + " exited during start-up; see " + dir.resolve("broker.log"));
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return System.nanoTime();
            } catch (IOException notYet) {
                Thread.sleep(10); // polling a port that is not open yet; nothing to wait on instead
            }
        }
        throw new IllegalStateException(kind + " did not open port " + port + " within 600 s; see " + dir.resolve("broker.log"));
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
    /** Client settings file for a secured broker (null in the clear). */
    public Path clientConfig() { return clientConfig; }

    /** Admin client settings: bootstrap and, for a secured broker, its security settings. */
    public java.util.Properties adminProps() throws IOException {
        java.util.Properties p = new java.util.Properties();
        if (clientConfig != null) {
            try (var in = Files.newBufferedReader(clientConfig)) {
                p.load(in);
            }
        }
        p.put("bootstrap.servers", bootstrap());
        return p;
    }
    public long pid() { return process.pid(); }

    /** Bytes the broker's data files take now (Capstan's RocksDB directory, Kafka's log.dirs). */
    public long dataBytes() {
        long total = 0;
        for (String sub : List.of("data", "logs")) {
            Path data = dir.resolve(sub);
            if (!Files.exists(data)) {
                continue;
            }
            try (var paths = Files.walk(data)) {
                total += paths.filter(Files::isRegularFile).mapToLong(f -> {
                    try {
                        return Files.size(f);
                    } catch (IOException gone) {
                        return 0; // compacted away while walking
                    }
                }).sum();
            } catch (IOException | java.io.UncheckedIOException e) {
                // a directory removed while walking (a Kafka segment being cleaned): the next sample counts again
            }
        }
        return total;
    }
    public ProcStats stats() { return ProcStats.of(process.pid()); }
    /** Heap bytes the broker's JVM has allocated since it started. */
    public long allocatedBytes() { return HeapAllocation.allocatedBytes(process.pid()); }

    @Override
    public void close() throws InterruptedException {
        HeapAllocation.forget(process.pid());
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        // the broker's data is gigabytes per run; its log (beside the data) stays for reading afterwards
        ClusterUnderTest.deleteData(dir, List.of("data", "logs"));
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
