package io.capstan.bench;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;

/**
 * Three brokers of one kind on fresh storage: Capstan as a user runs it ({@code capstan cluster up}: three broker
 * processes, the controller in the launcher, which starts a killed broker again) or Apache Kafka as KRaft with three
 * combined broker-and-controller nodes (the bench starts a killed node again). Each JVM gets the same 1 GiB heap.
 */
public abstract class ClusterUnderTest implements AutoCloseable {
    static final int NODES = 3;
    static final String HEAP = "-Xmx1g";

    protected final Path dir;
    protected final int[] ports = new int[NODES];
    private final java.util.Set<Integer> chosen = new java.util.HashSet<>();

    protected ClusterUnderTest(Path dir) throws IOException {
        this.dir = dir;
        for (int i = 0; i < NODES; i++) {
            ports[i] = freshPort();
        }
    }

    /** A free port no other node of this cluster was given (each is only checked free, not held). */
    protected int freshPort() throws IOException {
        while (true) {
            int port = consecutiveFreePorts(1);
            if (chosen.add(port)) {
                return port;
            }
        }
    }

    public static ClusterUnderTest start(BrokerKind kind, Path work, BrokerUnderTest.Classpaths cp) throws Exception {
        Path dir = Files.createDirectories(work.resolve(kind.name().toLowerCase() + "-cluster-" + System.nanoTime()));
        ClusterUnderTest cluster = kind.capstan() ? new Capstan(dir, cp) : new Kafka(dir, cp);
        cluster.startAll();
        return cluster;
    }

    public abstract String label();

    protected abstract void startAll() throws Exception;

    /** The process of the node with this Kafka node id (the id the Admin API reports as a leader). */
    public abstract long pidOfNode(int nodeId);

    /** Processes whose CPU and heap count as the cluster's: brokers and, where it runs apart, the controller. */
    protected abstract List<Long> accountedPids();

    /** SIGKILLs a node and answers when (nanoTime) the signal was sent; {@link #awaitBack} then has it running again. */
    public long kill(int nodeId) {
        long pid = pidOfNode(nodeId);
        HeapAllocation.forget(pid);
        ProcessHandle process = ProcessHandle.of(pid).orElseThrow(() -> new IllegalStateException("node " + nodeId + " is not running"));
        long killedAt = System.nanoTime();
        process.destroyForcibly();
        return killedAt;
    }

    /** Has a killed node started again and waits until its listener accepts connections. */
    public abstract void awaitBack(int nodeId) throws Exception;

    public String bootstrap() {
        StringJoiner j = new StringJoiner(",");
        for (int port : ports) {
            j.add("127.0.0.1:" + port);
        }
        return j.toString();
    }

    public ProcStats stats() {
        double cpu = 0;
        long rss = 0;
        long written = 0;
        double jit = 0;
        for (long pid : accountedPids()) {
            ProcStats s = ProcStats.of(pid);
            cpu += s.cpuSeconds();
            rss += s.peakRssBytes();
            written += s.writeBytes();
            jit += s.jitCpuSeconds();
        }
        return new ProcStats(cpu, rss, written, jit);
    }

    public long allocatedBytes() {
        long total = 0;
        for (long pid : accountedPids()) {
            total += HeapAllocation.allocatedBytes(pid);
        }
        return total;
    }

    protected static void awaitPort(int port, ProcessHandle process, Path log) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (process != null && !process.isAlive()) {
                throw new IllegalStateException("a node exited during start-up; see " + log);
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(200); // polling a port that is not open yet; nothing to wait on instead
            }
        }
        throw new IllegalStateException("port " + port + " did not open within 120 s; see " + log);
    }

    /** {@code capstan cluster up -n 3}, its defaults, the benchmark's usual {@code disk.min.free.bytes=0}. */
    static final class Capstan extends ClusterUnderTest {
        private final BrokerUnderTest.Classpaths cp;
        private Process launcher;

        Capstan(Path dir, BrokerUnderTest.Classpaths cp) throws IOException {
            super(dir);
            this.cp = cp;
        }

        @Override
        public String label() {
            return "Capstan, 3 brokers (capstan cluster up)";
        }

        @Override
        protected void startAll() throws Exception {
            int base = consecutiveFreePorts(NODES * 2);
            for (int i = 0; i < NODES; i++) {
                ports[i] = base + i;
            }
            List<String> command = new ArrayList<>(List.of(BrokerUnderTest.java(), "-Xmx256m", "-cp", cp.capstan(), "io.capstan.cli.Capstan",
                    "cluster", "up", "-n", String.valueOf(NODES), "--dir", dir.toString(), "--base-port", String.valueOf(base),
                    "--base-admin-port", String.valueOf(base + NODES), "--set", "disk.min.free.bytes=0", "--set", "group.initial.rebalance.delay.ms=0"));
            for (String setting : BrokerUnderTest.EXTRA_CAPSTAN_SETTINGS) {
                command.addAll(List.of("--set", setting));
            }
            launcher = new ProcessBuilder(command)
                    .redirectErrorStream(true).redirectOutput(dir.resolve("cluster-up.log").toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            while (!Files.exists(dir.resolve("cluster-up.log")) || !Files.readString(dir.resolve("cluster-up.log")).contains("cluster ready")) {
                if (!launcher.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("capstan cluster up did not start; see " + dir.resolve("cluster-up.log"));
                }
                Thread.sleep(200); // polling the launcher's log for its ready line
            }
        }

        @Override
        public long pidOfNode(int nodeId) {
            return launcher.children().filter(c -> Arrays.asList(cmdline(c.pid())).contains("--node-id")
                            && nodeIdOf(c.pid()) == nodeId)
                    .findFirst().orElseThrow(() -> new IllegalStateException("no process for broker " + nodeId)).pid();
        }

        private static int nodeIdOf(long pid) {
            String[] args = cmdline(pid);
            for (int i = 0; i < args.length - 1; i++) {
                if (args[i].equals("--node-id")) {
                    return Integer.parseInt(args[i + 1]);
                }
            }
            return -1;
        }

        @Override
        protected List<Long> accountedPids() {
            List<Long> pids = new ArrayList<>();
            pids.add(launcher.pid()); // the controller runs here
            launcher.children().forEach(c -> pids.add(c.pid()));
            return pids;
        }

        @Override
        public void awaitBack(int nodeId) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                try {
                    ProcessHandle p = ProcessHandle.of(pidOfNode(nodeId)).orElseThrow();
                    awaitPort(ports[nodeId], p, dir.resolve("logs"));
                    return;
                } catch (IllegalStateException notRestartedYet) {
                    if (System.nanoTime() > deadline) {
                        throw notRestartedYet;
                    }
                    Thread.sleep(100); // the launcher restarts it within a second
                }
            }
        }

        @Override
        public void close() throws Exception {
            accountedPids().forEach(HeapAllocation::forget);
            launcher.destroy();
            if (!launcher.waitFor(120, TimeUnit.SECONDS)) {
                launcher.destroyForcibly().waitFor();
            }
            deleteData(dir, List.of("broker-0", "broker-1", "broker-2", "metadata"));
        }
    }

    /** KRaft, three nodes each broker and controller, static voters, Kafka's defaults otherwise. */
    static final class Kafka extends ClusterUnderTest {
        private final BrokerUnderTest.Classpaths cp;
        private final int[] controllerPorts = new int[NODES];
        private final Map<Integer, Process> nodes = new HashMap<>();

        Kafka(Path dir, BrokerUnderTest.Classpaths cp) throws IOException {
            super(dir);
            this.cp = cp;
            for (int i = 0; i < NODES; i++) {
                controllerPorts[i] = freshPort();
            }
        }

        @Override
        public String label() {
            return "Kafka 4.4, 3 KRaft nodes (default: no fsync)";
        }

        @Override
        protected void startAll() throws Exception {
            StringJoiner voters = new StringJoiner(",");
            for (int i = 0; i < NODES; i++) {
                voters.add((i + 1) + "@127.0.0.1:" + controllerPorts[i]);
            }
            String clusterId = BrokerUnderTest.clusterId();
            for (int i = 0; i < NODES; i++) {
                Path node = Files.createDirectories(dir.resolve("node-" + (i + 1)));
                String props = "process.roles=broker,controller\nnode.id=" + (i + 1) + "\n"
                        + "controller.quorum.voters=" + voters + "\n"
                        + "listeners=PLAINTEXT://127.0.0.1:" + ports[i] + ",CONTROLLER://127.0.0.1:" + controllerPorts[i] + "\n"
                        + "advertised.listeners=PLAINTEXT://127.0.0.1:" + ports[i] + "\n"
                        + "inter.broker.listener.name=PLAINTEXT\ncontroller.listener.names=CONTROLLER\n"
                        + "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n"
                        + "log.dirs=" + node.resolve("logs") + "\n"
                        + "group.initial.rebalance.delay.ms=0\nauto.create.topics.enable=false\n";
                Files.writeString(node.resolve("server.properties"), props);
                Process format = new ProcessBuilder(BrokerUnderTest.java(), "-cp", cp.kafka(), "kafka.tools.StorageTool", "format",
                        "--cluster-id", clusterId, "--config", node.resolve("server.properties").toString())
                        .redirectErrorStream(true).redirectOutput(node.resolve("format.log").toFile()).start();
                if (!format.waitFor(120, TimeUnit.SECONDS) || format.exitValue() != 0) {
                    throw new IllegalStateException("formatting Kafka storage failed; see " + node.resolve("format.log"));
                }
            }
            for (int i = 0; i < NODES; i++) {
                startNode(i + 1);
            }
            for (int i = 0; i < NODES; i++) {
                awaitPort(ports[i], nodes.get(i + 1).toHandle(), dir.resolve("node-" + (i + 1)).resolve("broker.log"));
            }
        }

        private void startNode(int nodeId) throws IOException {
            Path node = dir.resolve("node-" + nodeId);
            nodes.put(nodeId, new ProcessBuilder(BrokerUnderTest.java(), HEAP, "-Xms1g", "-XX:+UseG1GC", "-cp", cp.kafka(), "kafka.Kafka",
                    node.resolve("server.properties").toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(node.resolve("broker.log").toFile())).start());
        }

        @Override
        public long pidOfNode(int nodeId) {
            return nodes.get(nodeId).pid();
        }

        @Override
        protected List<Long> accountedPids() {
            return nodes.values().stream().map(Process::pid).toList();
        }

        @Override
        public void awaitBack(int nodeId) throws Exception {
            nodes.get(nodeId).waitFor();
            startNode(nodeId);
            awaitPort(ports[nodeId - 1], nodes.get(nodeId).toHandle(), dir.resolve("node-" + nodeId).resolve("broker.log"));
        }

        @Override
        public void close() throws Exception {
            accountedPids().forEach(HeapAllocation::forget);
            nodes.values().forEach(Process::destroy);
            for (Process p : nodes.values()) {
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor();
                }
            }
            deleteData(dir, List.of("node-1/logs", "node-2/logs", "node-3/logs"));
        }
    }

    static String[] cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", String.valueOf(pid), "cmdline"))).split("\0");
        } catch (IOException gone) {
            return new String[0];
        }
    }

    /** A run of free ports (cluster up takes a base port and counts up). */
    static int consecutiveFreePorts(int count) throws IOException {
        for (int attempt = 0; attempt < 100; attempt++) {
            // below Linux's ephemeral range (32768-60999): a killed node comes back on the same port, which an outgoing
            // connection's local end could otherwise have taken meanwhile
            int base = 20_000 + new java.util.Random().nextInt(12_000);
            boolean free = true;
            for (int i = 0; i < count && free; i++) {
                try (java.net.ServerSocket s = new java.net.ServerSocket(base + i, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
                    // free
                } catch (IOException used) {
                    free = false;
                }
            }
            if (free) {
                return base;
            }
        }
        throw new IOException("no run of " + count + " free ports found");
    }

    /** Drops the data directories (gigabytes); the brokers' own logs live outside them and stay for reading. */
    static void deleteData(Path dir, List<String> subdirs) {
        for (String sub : subdirs) {
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
}
