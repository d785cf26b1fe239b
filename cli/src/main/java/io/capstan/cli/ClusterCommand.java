package io.capstan.cli;

import io.capstan.cluster.controller.FailoverController;
import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.ReplicaProgress;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.Versioned;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** A local multi-broker cluster: brokers as separate processes, a controller in this one, metadata in a directory. */
@Command(name = "cluster", mixinStandardHelpOptions = true, description = "Run or inspect a local replicated cluster.",
        subcommands = {ClusterCommand.Up.class, ClusterCommand.Status.class})
final class ClusterCommand {

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = "Start N brokers as separate processes plus a controller, until Ctrl-C. Logs: <dir>/logs/broker-N.log.")
    static final class Up implements Callable<Integer> {
        @Option(names = {"-n", "--brokers"}, defaultValue = "3", description = "Brokers to start (default ${DEFAULT-VALUE}).") int brokers;
        @Option(names = "--dir", defaultValue = "./cluster", description = "Data, metadata and logs (default ${DEFAULT-VALUE}).") Path dir;
        @Option(names = "--base-port", defaultValue = "9092", description = "Broker i listens on base-port + i (default ${DEFAULT-VALUE}).") int basePort;
        @Option(names = "--base-admin-port", defaultValue = "9644", description = "Broker i serves /metrics on base-admin-port + i (default ${DEFAULT-VALUE}).") int baseAdminPort;
        @Option(names = "--lease-ms", defaultValue = "3000", description = "Broker lease: how soon a dead broker's shards fail over (default ${DEFAULT-VALUE}).") long leaseMs;
        @Option(names = "--preferred-election-ms", defaultValue = "30000", description = "How often leadership returns to preferred replicas; 0 turns it off (default ${DEFAULT-VALUE}).") long preferredElectionMs;

        @Option(names = "--set", description = "A broker setting for every broker, name=value (repeatable).") List<String> settings = new ArrayList<>();
        @Option(names = "--no-restart", description = "Leave a broker that exits stopped (by default it is started again, as Kubernetes would).") boolean noRestart;

        @Override
        public Integer call() throws Exception {
            if (brokers < 1 || brokers > 64) {
                System.err.println("error: --brokers must be 1..64, got " + brokers);
                return 2;
            }
            for (String setting : settings) {
                if (setting.indexOf('=') < 1) {
                    System.err.println("error: --set takes name=value, got '" + setting + "'");
                    return 2;
                }
            }
            Path metadata = dir.resolve("metadata");
            Files.createDirectories(dir.resolve("logs"));
            BrokerSupervisor supervisor = new BrokerSupervisor(!noRestart);
            CountDownLatch stopped = new CountDownLatch(1);
            LocalFileMetadataStore store = new LocalFileMetadataStore(metadata, 100);
            FailoverController controller = new FailoverController(store, System::currentTimeMillis).withPreferredLeaderElection(preferredElectionMs);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                controller.close();
                supervisor.stopAll();
                store.close();
                stopped.countDown();
            }, "capstan-cluster-shutdown"));
            controller.start(200);
            List<String> bootstrap = new ArrayList<>();
            for (int id = 0; id < brokers; id++) {
                Path log = dir.resolve("logs").resolve("broker-" + id + ".log");
                List<String> cmd = new ArrayList<>(List.of(javaBinary(), "-Xmx1g", "-cp", System.getProperty("java.class.path"), Capstan.class.getName(),
                        "broker", "--node-id", String.valueOf(id), "--data-dir", dir.resolve("broker-" + id).toString(),
                        "--port", String.valueOf(basePort + id), "--admin-port", String.valueOf(baseAdminPort + id),
                        "--set", "metadata.dir=" + metadata, "--set", "broker.lease.ms=" + leaseMs,
                        "--set", "broker.heartbeat.interval.ms=" + Math.min(1000, leaseMs / 3)));
                for (String setting : settings) {
                    cmd.addAll(List.of("--set", setting));
                }
                Process p = supervisor.start(id, cmd, log);
                System.out.printf("broker %d: starting on 127.0.0.1:%d (log %s)...%n", id, basePort + id, log);
                if (!awaitReady(p, baseAdminPort + id, Duration.ofSeconds(120))) {
                    System.err.printf("error: broker %d did not become ready; see %s for why (a port in use? try --base-port)%n", id, log);
                    return 1;
                }
                System.out.printf("broker %d: ready%n", id);
                bootstrap.add("127.0.0.1:" + (basePort + id));
            }
            System.out.println("cluster ready: " + brokers + " brokers, bootstrap " + String.join(",", bootstrap)
                    + "; `capstan cluster status --dir " + dir + "` shows leaders and in-sync replicas; Ctrl-C stops it");
            stopped.await();
            return 0;
        }

        private static String javaBinary() {
            return Path.of(System.getProperty("java.home"), "bin", "java").toString();
        }

        private static boolean awaitReady(Process p, int adminPort, Duration timeout) throws InterruptedException {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline && p.isAlive()) {
                try {
                    HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/readyz"))
                            .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.discarding());
                    if (r.statusCode() == 200) {
                        return true;
                    }
                } catch (IOException notYet) {
                    // still starting
                }
                Thread.sleep(200); // polling a readiness endpoint; nothing to wait on instead
            }
            return false;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Brokers, and each shard's leader, epoch, replicas and in-sync replicas.")
    static final class Status implements Callable<Integer> {
        @Option(names = "--dir", defaultValue = "./cluster", description = "The directory given to cluster up (default ${DEFAULT-VALUE}).") Path dir;

        @Override
        public Integer call() {
            Path metadata = dir.resolve("metadata");
            if (!Files.isDirectory(metadata)) {
                System.err.println("error: no cluster metadata in " + metadata + "; start one with `capstan cluster up --dir " + dir + "`");
                return 2;
            }
            try (LocalFileMetadataStore store = new LocalFileMetadataStore(metadata, 60_000)) {
                print(store, System.out, System.currentTimeMillis());
            }
            return 0;
        }

        static void print(LocalFileMetadataStore store, PrintStream out, long now) {
            print(store, out, now, Status::fetchProgress);
        }

        /** {@code progress}: what a live broker's admin port says of the shards it leads (empty if it cannot be asked). */
        static void print(LocalFileMetadataStore store, PrintStream out, long now,
                          java.util.function.Function<BrokerRegistration, List<ReplicaProgress>> progress) {
            java.util.Map<String, ReplicaProgress> lagByShard = new java.util.HashMap<>();
            out.printf("%-6s %-22s %-8s %s%n", "BROKER", "ADDRESS", "RACK", "STATE");
            int supportedByAll = Integer.MAX_VALUE;
            for (Versioned v : store.list("brokers/").values()) {
                BrokerRegistration b = MetadataCodec.decode(v.value(), BrokerRegistration.class);
                supportedByAll = Math.min(supportedByAll, io.capstan.cluster.version.ClusterVersion.supportedBy(b));
                String state = b.alive(now) ? "alive (lease " + (b.leaseExpiresAtMs() - now) + " ms)" : "down";
                out.printf("%-6d %-22s %-8s %s%n", b.id(), b.host() + ":" + b.port(), b.rack() == null || b.rack().isEmpty() ? "-" : b.rack(), state);
                if (b.alive(now)) {
                    progress.apply(b).forEach(p -> lagByShard.put(p.topic() + "-" + p.partition(), p));
                }
            }
            out.println();
            out.printf("%-30s %-7s %-6s %-12s %-12s %-12s %s%n", "SHARD", "LEADER", "EPOCH", "REPLICAS", "IN-SYNC", "MAX-LAG", "STATE");
            int under = 0;
            int offline = 0;
            List<ShardState> shards = new io.capstan.cluster.metadata.ShardStore(store).list().stream()
                    .map(io.capstan.cluster.metadata.VersionedShard::state)
                    .sorted(java.util.Comparator.comparing(ShardState::topic).thenComparingInt(ShardState::partition)).toList();
            for (ShardState s : shards) {
                String name = s.topic() + "-" + s.partition();
                String state = s.leader() < 0 ? "OFFLINE" : s.reassigning() ? "reassigning (adding " + join(s.addingReplicas())
                        + ", removing " + join(s.removingReplicas()) + ")" : s.isr().size() < s.replicas().size() ? "under-replicated" : "ok";
                under += s.leader() >= 0 && s.isr().size() < s.replicas().size() ? 1 : 0;
                offline += s.leader() < 0 ? 1 : 0;
                ReplicaProgress p = lagByShard.get(name);
                String lag = p == null || p.leader() != s.leader() ? "-" : p.maxLag() + " records";
                out.printf("%-30s %-7s %-6d %-12s %-12s %-12s %s%n", name, s.leader() < 0 ? "none" : String.valueOf(s.leader()),
                        s.leaderEpoch(), join(s.replicas()), join(s.isr()), lag, state);
            }
            out.printf("%n%d under-replicated, %d offline%n", under, offline);
            int finalized = io.capstan.cluster.version.ClusterVersion.read(store).level();
            out.printf("cluster version (capstan.version) %d%s%n", finalized, supportedByAll != Integer.MAX_VALUE && supportedByAll > finalized
                    ? "; every broker supports " + supportedByAll + ": raise it with kafka-features.sh --bootstrap-server <broker> upgrade"
                    + " --feature capstan.version=" + supportedByAll + " and restart the brokers" : "");
        }

        private static List<ReplicaProgress> fetchProgress(BrokerRegistration b) {
            if (b.adminPort() <= 0) {
                return List.of();
            }
            try {
                HttpResponse<byte[]> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://" + b.host() + ":" + b.adminPort() + "/replicas")).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                return r.statusCode() == 200 ? List.of(MetadataCodec.decode(r.body(), ReplicaProgress[].class)) : List.of();
            } catch (IOException e) {
                return List.of(); // lag unknown for this broker's shards
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return List.of();
            }
        }

        private static String join(List<Integer> ids) {
            return String.join(",", ids.stream().map(String::valueOf).toList());
        }
    }
}
