package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.cluster.controller.FailoverController;
import io.capstan.cluster.metadata.KubernetesMetadataStore;
import io.capstan.cluster.metadata.MetadataCache;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.ShardId;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.view.ClusterView;
import io.capstan.e2e.k8s.ControlPlane;
import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.reconcile.ApiCalls;
import io.capstan.operator.reconcile.BrokerClusterReconciler;
import io.capstan.operator.reconcile.OperatorMetrics;
import io.capstan.operator.reconcile.ResourceWriter;
import io.capstan.operator.rollout.RollingRestart;
import io.capstan.operator.shards.ClusterControllers;
import io.capstan.operator.shards.ClusterMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * The control plane at scale on a real kube-apiserver and etcd (docs/scale.md): brokers in their own processes on the
 * Kubernetes metadata store, the failover controller as the operator runs it, and topics × shards at replication
 * factor 3. It measures creation, the API-server requests of a quiet cluster, how long a leader change takes to reach
 * every broker (a Kafka Metadata request to each), and a SIGKILL failover of the broker leading the most shards until
 * each of them has taken an acks=all record.
 *
 * <p>CI runs a small size and checks what does not depend on speed: every shard gets its replicas in sync, a quiet
 * cluster sends the API server no reads at all (no LIST, no GET: watches only) and writes nothing but lease renewals,
 * every broker reports each leader change, and every shard of the killed broker moves and takes acks=all produce.
 * The full size is a documented command (docs/scale.md); figures go to target/scale-report.md.
 */
@org.junit.jupiter.api.Tag(ControlPlane.TAG)
class ScaleBenchmarkTest {
    private static final String NAMESPACE = "scale";
    private static final String STORE = "scale";
    /** What the brokers keep their keys in: the kind the operator gives new clusters. */
    private static final KubernetesMetadataStore.ObjectKind KIND = KubernetesMetadataStore.ObjectKind.METADATA_ENTRY;
    private static final String RESOURCE = "metadataentries";
    private static final int BROKERS = Integer.getInteger("capstan.scale.brokers", 3);
    private static final int TOPICS = Integer.getInteger("capstan.scale.topics", 4);
    private static final int PARTITIONS = Integer.getInteger("capstan.scale.partitions", 50);
    private static final int BIG_TOPIC = Integer.getInteger("capstan.scale.big-topic", 100);
    private static final int PROPAGATION_SAMPLES = Integer.getInteger("capstan.scale.samples", 10);
    private static final long QUIET_MS = Long.getLong("capstan.scale.quiet-ms", 15_000);
    private static final long LEASE_MS = Long.getLong("capstan.scale.lease-ms", 2_000);
    private static final long HEARTBEAT_MS = Long.getLong("capstan.scale.heartbeat-ms", 1_000);
    /** In one JVM: how ten brokers fit on two cores (they cannot be SIGKILLed, so no failover is measured then). */
    private static final boolean IN_PROCESS = Boolean.getBoolean("capstan.scale.in-process");
    /** Then Apache Kafka 4.4 in KRaft mode at the same size, in the same run (docs/scale.md). */
    private static final boolean KAFKA = Boolean.getBoolean("capstan.scale.kafka");
    private static final Pattern REQUESTS = Pattern.compile(
            "^apiserver_request_total\\{([^}]*)} ([0-9.e+]+)$", Pattern.MULTILINE);

    private final StringBuilder report = new StringBuilder();

    @Test
    void theControlPlaneAtScale() throws Exception {
        ControlPlane.assumeBuilt(false);
        Path work = Path.of("target", "scale-" + System.nanoTime()).toAbsolutePath();
        line("# Control plane at scale: %d brokers (%s), %d topics x %d shards (RF 3) = %d shards, broker.lease.ms %d",
                BROKERS, IN_PROCESS ? "in one JVM" : "one process each", TOPICS, PARTITIONS, TOPICS * PARTITIONS, LEASE_MS);
        List<ScaleBroker> brokers = new ArrayList<>();
        try (ControlPlane controlPlane = ControlPlane.start(work.resolve("k8s"));
             KubernetesClient client = controlPlane.adminClient()) {
            ControlPlane.installCrd(client, NAMESPACE); // the BrokerCluster resource, for the operator's passes at the end
            Map<String, String> env = Map.of("KUBECONFIG", controlPlane.adminKubeconfig().toString());
            long started = System.nanoTime();
            if (IN_PROCESS) {
                System.setProperty("kubeconfig", controlPlane.adminKubeconfig().toString()); // Fabric8 reads it as KUBECONFIG
            }
            for (int id = 0; id < BROKERS; id++) {
                Map<String, String> settings = Map.of("node.id", String.valueOf(id), "metadata.store", "kubernetes",
                        "metadata.namespace", NAMESPACE, "metadata.name", STORE, "broker.lease.ms", String.valueOf(LEASE_MS),
                        "broker.heartbeat.interval.ms", String.valueOf(HEARTBEAT_MS),
                        "disk.min.free.bytes", "0", "metadata.kubernetes.kind", "MetadataEntry");
                brokers.add(IN_PROCESS ? ScaleBroker.inProcess(work.resolve("broker-" + id), settings)
                        : ScaleBroker.process(work.resolve("broker-" + id), work.resolve("logs/broker-" + id), settings, env));
            }
            line("- %d brokers started and registered in %d ms", BROKERS, ms(started));
            MetadataStore store = new KubernetesMetadataStore(client, NAMESPACE, STORE, KIND);
            try (FailoverController controller = new FailoverController(store, System::currentTimeMillis);
                 MetadataCache cache = MetadataCache.open(store, Duration.ofMinutes(2));
                 ClusterView view = new ClusterView(cache, System::currentTimeMillis);
                 Admin admin = Admin.create(Map.of("bootstrap.servers", brokers.get(0).bootstrap(), "request.timeout.ms", "600000",
                         "default.api.timeout.ms", "600000"))) {
                controller.start(500);
                createTopics(admin, view);
                quietCluster(controlPlane, client);
                propagation(brokers, store, view);
                if (!IN_PROCESS) {
                    failover(brokers, view);
                }
                bigTopic(admin, view);
                operatorPasses(client);
            } finally {
                stopAll(brokers); // while the API server still answers: a clean stop ends each lease there
            }
        } finally {
            stopAll(brokers);
        }
        try {
            if (KAFKA && !IN_PROCESS) {
                kafkaSideBySide(work.resolve("kafka"));
            }
        } finally {
            Files.createDirectories(Path.of("target"));
            Files.writeString(Path.of("target", "scale-report.md"), report);
            System.out.print(report);
        }
    }

    private void createTopics(Admin admin, ClusterView view) throws Exception {
        long t0 = System.nanoTime();
        createBenchTopics(admin, "capstan");
        long created = ms(t0);
        int shards = TOPICS * PARTITIONS;
        await().atMost(Duration.ofMinutes(20)).pollInterval(Duration.ofSeconds(1)).until(() -> inSync(view) == shards);
        line("- creating %d shards: %d ms until CreateTopics answered (%.0f shards/s), %d ms until every shard had 3 replicas in sync",
                shards, created, shards * 1000.0 / Math.max(1, created), ms(t0));
    }

    /** The benchmark's topics, ten to a CreateTopics request, with progress. */
    private static void createBenchTopics(Admin admin, String who) throws Exception {
        for (int first = 0; first < TOPICS; first += 10) {
            List<NewTopic> batch = new ArrayList<>();
            for (int t = first; t < Math.min(TOPICS, first + 10); t++) {
                batch.add(new NewTopic("t" + t, PARTITIONS, (short) 3));
            }
            admin.createTopics(batch).all().get();
            System.out.printf("%s: created %d/%d topics%n", who, Math.min(TOPICS, first + 10), TOPICS);
        }
    }

    private static long inSync(ClusterView view) {
        return view.shards().values().stream().filter(s -> s.state().topic().startsWith("t") && s.state().isr().size() == 3
                && s.state().leader() >= 0).count();
    }

    /**
     * A quiet cluster: no topic changes, every follower caught up. What the API server is asked in that window is the
     * whole steady-state cost of the metadata plane.
     */
    private void quietCluster(ControlPlane controlPlane, KubernetesClient client) throws Exception {
        Map<String, Double> before = requests(client);
        long t0 = System.nanoTime();
        Thread.sleep(QUIET_MS); // the measurement window, not synchronisation
        Map<String, Double> after = requests(client);
        double seconds = (System.nanoTime() - t0) / 1e9;
        Map<String, Double> delta = new TreeMap<>();
        after.forEach((k, v) -> {
            double d = v - before.getOrDefault(k, 0.0);
            if (d > 0) {
                delta.put(k, d);
            }
        });
        line("- quiet cluster, %.0f s window, API-server requests per second by verb and resource (from apiserver_request_total):", seconds);
        delta.forEach((k, v) -> line("  - %s: %.2f/s", k, v / seconds));
        line("  - expected lease renewals alone: %.2f PUT/s (%d brokers, one every %d ms)", BROKERS / (HEARTBEAT_MS / 1000.0), BROKERS, HEARTBEAT_MS);
        String etcd = controlPlane.etcdMetrics();
        Matcher size = Pattern.compile("^etcd_mvcc_db_total_size_in_bytes ([0-9.e+]+)$", Pattern.MULTILINE).matcher(etcd);
        if (size.find()) {
            line("- etcd database size: %.1f MB", Double.parseDouble(size.group(1)) / 1e6);
        }
        assertThat(delta.keySet()).as("the metadata store's resource is measured").anyMatch(k -> k.endsWith(" " + RESOURCE));
        assertThat(delta.getOrDefault("LIST " + RESOURCE, 0.0)).as("LISTs of the metadata store in a quiet cluster").isZero();
        assertThat(delta.getOrDefault("GET " + RESOURCE, 0.0)).as("GETs of the metadata store in a quiet cluster").isZero();
        double puts = delta.getOrDefault("PUT " + RESOURCE, 0.0);
        double leaseRenewals = seconds * BROKERS / (HEARTBEAT_MS / 1000.0);
        assertThat(puts).as("writes in a quiet cluster: lease renewals only").isLessThanOrEqualTo(leaseRenewals * 1.5 + BROKERS);
    }

    /** Sums apiserver_request_total by "VERB resource" (all codes, scopes and versions). */
    private static Map<String, Double> requests(KubernetesClient client) {
        Map<String, Double> out = new HashMap<>();
        Matcher m = REQUESTS.matcher(client.raw("/metrics"));
        while (m.find()) {
            Map<String, String> labels = new HashMap<>();
            for (String pair : m.group(1).split(",")) {
                int eq = pair.indexOf('=');
                labels.put(pair.substring(0, eq), pair.substring(eq + 2, pair.length() - 1));
            }
            out.merge(labels.get("verb") + " " + labels.get("resource"), Double.parseDouble(m.group(2)), Double::sum);
        }
        return out;
    }

    /** A leader change written to the store, until every broker's Metadata answer names the new leader and epoch. */
    private void propagation(List<ScaleBroker> brokers, MetadataStore store, ClusterView view) throws Exception {
        Random random = new Random(42);
        List<Long> samples = new ArrayList<>();
        List<Long> watched = new ArrayList<>();
        List<MetadataProbe> probes = new ArrayList<>();
        try {
            for (ScaleBroker b : brokers) {
                probes.add(new MetadataProbe(b.port()));
            }
            for (int i = 0; i < PROPAGATION_SAMPLES; i++) {
                ShardId id = new ShardId("t" + random.nextInt(TOPICS), random.nextInt(PARTITIONS));
                ClusterView.Shard shard = view.shard(id);
                ShardState state = shard.state();
                int successor = state.isr().stream().filter(r -> r != state.leader()).findFirst().orElseThrow();
                ShardState next = state.electLeader(successor);
                long t0 = System.nanoTime();
                long version = view.shardStore().compareAndSet(next, shard.version());
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(1)).until(() -> view.shard(id).version() >= version);
                watched.add(ms(t0));
                for (MetadataProbe probe : probes) {
                    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5)).until(() ->
                            probe.leadership(id.topic(), id.partition()).equals(new MetadataProbe.Leadership(next.leader(), next.leaderEpoch())));
                }
                samples.add(ms(t0));
            }
        } finally {
            for (MetadataProbe p : probes) {
                p.close();
            }
        }
        Collections.sort(samples);
        Collections.sort(watched);
        line("- leader change written to the store until this process's own watch delivers it: p50 %d ms, p99 %d ms",
                percentile(watched, 50), percentile(watched, 99));
        line("- leader change written to the store until every broker's Metadata answer names it: %d samples, p50 %d ms, p99 %d ms, max %d ms"
                + " (5 ms polling of each broker in turn)", samples.size(), percentile(samples, 50), percentile(samples, 99),
                samples.get(samples.size() - 1));
    }

    /** SIGKILL of the broker leading the most shards, until each of those shards has taken an acks=all record. */
    private void failover(List<ScaleBroker> brokers, ClusterView view) throws Exception {
        Map<Integer, List<ShardId>> led = new HashMap<>();
        view.shards().forEach((id, s) -> {
            if (id.topic().startsWith("t")) {
                led.computeIfAbsent(s.state().leader(), k -> new ArrayList<>()).add(id);
            }
        });
        int victim = led.entrySet().stream().max(Map.Entry.comparingByValue((a, b) -> Integer.compare(a.size(), b.size()))).orElseThrow().getKey();
        List<ShardId> shards = led.get(victim);
        long[] killedAt = {0};
        long[] leaseEndedAt = {0};
        Failover f = measureFailover(String.join(",", brokers.stream().map(ScaleBroker::bootstrap).toList()), shards,
                () -> {
                    killedAt[0] = System.nanoTime();
                    brokers.get(victim).kill();
                }, Duration.ofMillis(10),
                () -> {
                    if (leaseEndedAt[0] == 0 && !view.aliveBrokerIds().contains(victim)) {
                        leaseEndedAt[0] = System.nanoTime();
                    }
                    return shards.stream().allMatch(id -> view.shard(id).state().leader() >= 0 && view.shard(id).state().leader() != victim);
                },
                () -> java.util.Set.copyOf(shards));
        line("- SIGKILL of broker %d, leader of %d shards: its lease ended (detection) after %d ms; every one led elsewhere in the store"
                + " after %d ms; the first acks=all record sent to each after the kill acknowledged: p50 %d ms, max %d ms"
                + " (lease %d ms, renewals every %d ms)", victim, shards.size(), (leaseEndedAt[0] - killedAt[0]) / 1_000_000,
                f.movedMs(), percentile(f.ackMs(), 50), f.ackMs().get(f.ackMs().size() - 1), LEASE_MS, HEARTBEAT_MS);
    }

    private interface Kill {
        void run() throws Exception;
    }

    /** When every shard had moved, and when each shard's first acks=all record sent after the kill was acknowledged. */
    private record Failover(long movedMs, List<Long> ackMs, int offline) {}

    /**
     * The same measurement for both brokers: a producer that knows every shard's leader and has a connection to each
     * broker, the kill, one acks=all record to each of the victim's shards, the time until {@code moved} holds, and then
     * until every shard {@code led} names (those that have a leader again) has acknowledged its record.
     */
    private static Failover measureFailover(String bootstrap, List<ShardId> shards, Kill kill, Duration poll,
                                            java.util.concurrent.Callable<Boolean> moved,
                                            java.util.function.Supplier<java.util.Set<ShardId>> led) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("acks", "all");
        p.put("linger.ms", "0");
        p.put("request.timeout.ms", "5000");
        p.put("delivery.timeout.ms", "300000");
        p.put("retry.backoff.ms", "20");
        p.put("retry.backoff.max.ms", "100");
        p.put("max.in.flight.requests.per.connection", "5");
        // one small batch per shard and memory for all of them: a send must never wait for buffer space
        p.put("batch.size", "512");
        p.put("buffer.memory", String.valueOf(512L << 20));
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        try {
            List<java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata>> warmUp = new ArrayList<>();
            for (ShardId id : shards) {
                warmUp.add(producer.send(new ProducerRecord<>(id.topic(), id.partition(), null, new byte[16])));
            }
            for (var f : warmUp) {
                f.get();
            }
            Map<ShardId, Long> ackedAt = new ConcurrentHashMap<>();
            Map<ShardId, Exception> failed = new ConcurrentHashMap<>();
            long t0 = System.nanoTime();
            kill.run();
            for (ShardId id : shards) {
                producer.send(new ProducerRecord<>(id.topic(), id.partition(), null, new byte[16]), (md, e) -> {
                    if (e != null) {
                        failed.put(id, e);
                    } else {
                        ackedAt.put(id, System.nanoTime());
                    }
                });
            }
            await().atMost(Duration.ofMinutes(5)).pollInterval(poll).until(moved);
            long movedMs = ms(t0);
            java.util.Set<ShardId> expected = led.get();
            await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(10)).until(() ->
                    !failed.isEmpty() || ackedAt.keySet().containsAll(expected));
            assertThat(failed).as("acks=all records that failed after the failover").isEmpty();
            List<Long> ackMs = new ArrayList<>(expected.stream().map(id -> (ackedAt.get(id) - t0) / 1_000_000).toList());
            Collections.sort(ackMs);
            return new Failover(movedMs, ackMs, shards.size() - expected.size());
        } finally {
            producer.close(Duration.ZERO); // records to shards left offline are abandoned, not waited for
        }
    }

    /**
     * Apache Kafka 4.4, KRaft with one dedicated controller (as the operator is Capstan's), the same brokers, topics,
     * failover and large topic, with broker.session.timeout.ms equal to Capstan's lease so detection costs the same.
     * Leaders are read with the Admin API (describeTopics), which is what Kafka's own tools show.
     */
    private void kafkaSideBySide(Path dir) throws Exception {
        line("");
        line("# Apache Kafka 4.4 KRaft, same run and size: 1 controller + %d brokers (one process each), broker.session.timeout.ms %d",
                BROKERS, LEASE_MS);
        long started = System.nanoTime();
        try (KraftCluster kafka = new KraftCluster(dir, System.getProperty("capstan.scale.heap", "1g"), LEASE_MS)) {
            kafka.start(BROKERS);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrap(), "request.timeout.ms", "600000",
                    "default.api.timeout.ms", "600000"))) {
                await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200))
                        .until(() -> admin.describeCluster().nodes().get().size() == BROKERS);
                line("- %d brokers started and registered in %d ms", BROKERS, ms(started));
                List<String> names = new ArrayList<>();
                for (int t = 0; t < TOPICS; t++) {
                    names.add("t" + t);
                }
                long t0 = System.nanoTime();
                createBenchTopics(admin, "kafka");
                long created = ms(t0);
                int shards = TOPICS * PARTITIONS;
                // topics just created are unknown to some brokers for a moment: Kafka answers UNKNOWN_TOPIC_OR_PARTITION
                await().atMost(Duration.ofMinutes(20)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().until(() -> leaders(admin, names).values().stream()
                        .filter(l -> l.leader() >= 0 && l.isr() == 3).count() == shards);
                line("- creating %d partitions: %d ms until CreateTopics answered (%.0f partitions/s), %d ms until every one had 3 replicas in sync",
                        shards, created, shards * 1000.0 / Math.max(1, created), ms(t0));

                Map<ShardId, Leadership> before = leaders(admin, names);
                Map<Integer, List<ShardId>> led = new HashMap<>();
                // only partitions with all three replicas in sync right before the kill can fail over; a partition whose
                // ISR shrank to the victim alone goes offline by design (no unclean election), and is counted apart
                before.forEach((id, l) -> {
                    if (l.isr() == 3) {
                        led.computeIfAbsent(l.leader(), k -> new ArrayList<>()).add(id);
                    }
                });
                long shrunk = before.values().stream().filter(l -> l.isr() < 3).count();
                int victim = led.entrySet().stream().max(Map.Entry.comparingByValue((a, b) -> Integer.compare(a.size(), b.size())))
                        .orElseThrow().getKey();
                List<ShardId> victims = led.get(victim);
                // a partition moves when it has a new leader, or no leader at all (its ISR had shrunk to the victim)
                Failover f = measureFailover(kafka.bootstrap(), victims, () -> kafka.kill(victim), Duration.ofMillis(100), () -> {
                    Map<ShardId, Leadership> now = leaders(admin, names);
                    return victims.stream().allMatch(id -> now.get(id).leader() != victim);
                }, () -> {
                    try {
                        Map<ShardId, Leadership> now = leaders(admin, names);
                        return victims.stream().filter(id -> now.get(id).leader() >= 0).collect(java.util.stream.Collectors.toSet());
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                line("- SIGKILL of broker %d, leader of %d partitions with 3 replicas in sync: every one led elsewhere or offline (describeTopics,"
                        + " polled every 100 ms) after %d ms; the first acks=all record sent to each after the kill acknowledged: p50 %d ms,"
                        + " max %d ms (session timeout %d ms of that is detection); %d of them left without a leader (offline);"
                        + " %d partitions had fewer than 3 replicas in sync right before the kill and are left out", victim,
                        victims.size(), f.movedMs(), percentile(f.ackMs(), 50), f.ackMs().get(f.ackMs().size() - 1), LEASE_MS,
                        f.offline(), shrunk);

                long t1 = System.nanoTime();
                admin.createTopics(List.of(new NewTopic("big", BIG_TOPIC, (short) 2))).all().get();
                long bigCreated = ms(t1);
                await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() ->
                        leaders(admin, List.of("big")).values().stream().filter(l -> l.leader() >= 0).count() == BIG_TOPIC);
                long bigLed = ms(t1);
                long t2 = System.nanoTime();
                admin.deleteTopics(List.of("big")).all().get();
                long bigDeleted = ms(t2);
                await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(100)).until(() -> !admin.listTopics().names().get().contains("big"));
                line("- a %d-partition topic (RF 2): CreateTopics answered in %d ms, every partition led after %d ms;"
                        + " DeleteTopics answered in %d ms, gone from the topic list after %d ms", BIG_TOPIC, bigCreated, bigLed, bigDeleted, ms(t2));
            }
        }
    }

    private record Leadership(int leader, int isr) {}

    private static Map<ShardId, Leadership> leaders(Admin admin, List<String> topics) throws Exception {
        Map<ShardId, Leadership> out = new HashMap<>();
        admin.describeTopics(topics).allTopicNames().get().forEach((name, d) -> d.partitions().forEach(p ->
                out.put(new ShardId(name, p.partition()), new Leadership(p.leader() == null || p.leader().isEmpty() ? -1 : p.leader().id(),
                        p.isr().size()))));
        return out;
    }

    /**
     * The operator's reconcile pass over a BrokerCluster whose metadata store holds every shard of this run (the
     * brokers' own store: the cluster is named as the store). There is no kubelet here, so its pods never start: the
     * passes render, apply and judge, as on a cluster waiting for pods. Time and the API requests a pass makes itself
     * (the operator's own metric; informers and watches are not counted), first pass apart (it creates the objects and
     * opens the cluster's metadata cache).
     */
    private void operatorPasses(KubernetesClient admin) throws Exception {
        BrokerCluster cluster = io.fabric8.kubernetes.client.utils.Serialization.unmarshal(
                Files.readString(Path.of("..", "manifests", "examples", "minimal.yaml")), BrokerCluster.class);
        cluster.getMetadata().setNamespace(NAMESPACE);
        cluster.getMetadata().setName(STORE);
        cluster.getSpec().replicas = BROKERS;
        admin.resource(cluster).create();
        OperatorMetrics metrics = OperatorMetrics.unregistered();
        try (KubernetesClient counted = ApiCalls.counting(new io.fabric8.kubernetes.client.KubernetesClientBuilder()
                .withConfig(admin.getConfiguration())).build();
             ClusterControllers controllers = new ClusterControllers(counted, 1000)) {
            BrokerClusterReconciler reconciler = new BrokerClusterReconciler(counted, ResourceWriter.serverSideApply(counted),
                    pod -> RollingRestart.Safety.SAFE, ClusterMetadata.kubernetes(counted, controllers), controllers,
                    System::currentTimeMillis).withMetrics(metrics);
            List<Long> passMs = new ArrayList<>();
            List<Long> passCalls = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                BrokerCluster current = admin.resources(BrokerCluster.class).inNamespace(NAMESPACE).withName(STORE).get();
                double before = apiCallsSoFar(metrics);
                long t0 = System.nanoTime();
                BrokerCluster done = reconciler.reconcile(current);
                passMs.add(ms(t0));
                passCalls.add(Math.round(apiCallsSoFar(metrics) - before));
                admin.resource(done).updateStatus();
            }
            List<Long> laterMs = new ArrayList<>(passMs.subList(1, passMs.size()));
            List<Long> laterCalls = new ArrayList<>(passCalls.subList(1, passCalls.size()));
            Collections.sort(laterMs);
            Collections.sort(laterCalls);
            line("- operator reconcile pass over a BrokerCluster of %d brokers whose store holds every shard above (no kubelet: its"
                    + " pods never start): first pass %d ms, %d API requests; the next %d passes p50 %d ms, max %d ms, %d to %d API requests",
                    BROKERS, passMs.get(0), passCalls.get(0), laterMs.size(), percentile(laterMs, 50), laterMs.get(laterMs.size() - 1),
                    laterCalls.get(0), laterCalls.get(laterCalls.size() - 1));
            assertThat(laterCalls.get(laterCalls.size() - 1)).as("API requests of a pass that changes nothing: bounded, not per shard")
                    .isLessThanOrEqualTo(30);
        }
    }

    private static double apiCallsSoFar(OperatorMetrics metrics) {
        return metrics.registry().scrape().stream().filter(m -> m.getMetadata().getName().equals("capstan_operator_reconcile_api_calls"))
                .map(m -> ((io.prometheus.metrics.model.snapshots.HistogramSnapshot) m).getDataPoints().get(0).getSum())
                .findFirst().orElse(0.0);
    }

    /** One topic of many shards created and deleted. */
    private void bigTopic(Admin admin, ClusterView view) throws Exception {
        long t0 = System.nanoTime();
        admin.createTopics(List.of(new NewTopic("big", BIG_TOPIC, (short) 2))).all().get();
        long created = ms(t0);
        await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(100)).until(() ->
                view.shards().keySet().stream().filter(id -> id.topic().equals("big")).count() == BIG_TOPIC
                        && view.topic("big") != null);
        long visible = ms(t0);
        long t1 = System.nanoTime();
        admin.deleteTopics(List.of("big")).all().get();
        long deleted = ms(t1);
        await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(100)).until(() ->
                view.shards().keySet().stream().noneMatch(id -> id.topic().equals("big")));
        line("- a %d-shard topic (RF 2): CreateTopics answered in %d ms, all shards in the cache after %d ms;"
                + " DeleteTopics answered in %d ms, all gone after %d ms", BIG_TOPIC, created, visible, deleted, ms(t1));
    }

    private static void stopAll(List<ScaleBroker> brokers) throws Exception {
        for (ScaleBroker b : brokers) {
            b.stop();
        }
        brokers.clear();
    }

    /** A broker under measurement: its own process (SIGKILL-able) or one of several in this JVM. */
    private interface ScaleBroker {
        int port();

        void kill() throws Exception;

        void stop() throws Exception;

        default String bootstrap() {
            return "127.0.0.1:" + port();
        }

        static ScaleBroker process(Path data, Path logs, Map<String, String> settings, Map<String, String> env) throws Exception {
            BrokerProcess b = new BrokerProcess(data, logs, settings).withEnvironment(env).withHeap(System.getProperty("capstan.scale.heap", "1g"));
            b.start();
            return new ScaleBroker() {
                public int port() { return b.port(); }
                public void kill() throws Exception { b.kill(); }
                public void stop() throws Exception { b.stop(); }
            };
        }

        static ScaleBroker inProcess(Path data, Map<String, String> settings) {
            Map<String, String> all = new HashMap<>(settings);
            all.put("data.dir", data.toString());
            all.put("listener.port", "0");
            all.put("admin.port", "-1");
            io.capstan.broker.Broker b = new io.capstan.broker.Broker(io.capstan.config.BrokerConfig.from(all), all);
            return new ScaleBroker() {
                public int port() { return b.port(); }
                public void kill() { throw new UnsupportedOperationException("a broker in this JVM cannot be SIGKILLed"); }
                public void stop() { b.close(); }
            };
        }
    }

    private static long percentile(List<Long> sorted, int pct) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(pct / 100.0 * sorted.size()) - 1));
    }

    private static long ms(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private void line(String format, Object... args) {
        String s = String.format(format, args);
        report.append(s).append('\n');
        System.out.println(s);
    }
}
