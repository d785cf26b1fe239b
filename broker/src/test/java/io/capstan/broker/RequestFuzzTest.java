package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.ResourceLeakDetector;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutation fuzzing of the whole request path over a real socket: seeds are one valid request of every API at every
 * version the broker advertises ({@link SampleRequests}); each execution sends a mutant ({@link RequestMutator}) and then
 * a valid ApiVersions probe on the same connection. The broker must answer the probe or close the connection: a
 * connection left hanging fails the run (except behind a Fetch, JoinGroup or SyncGroup, whose mutants may legitimately
 * ask to wait, up to the long wait they asked for). Netty's leak detector runs at PARANOID (every buffer tracked) and
 * any leak report fails the run, as does a long-poll fetch still parked once every connection has closed, any
 * request the broker failed by its own fault
 * ({@code capstan_request_internal_errors_total}) and any fatal error; afterwards the broker must still serve a real
 * producer and consumer. Not coverage-guided (no Jazzer here): breadth comes from the seeds, one per API and version.
 *
 * <p>CI runs {@code capstan.fuzz.executions} (default 20,000); the long run is documented in docs/reliability.md.
 */
class RequestFuzzTest {
    private static final int PROBE_TIMEOUT_MS = 10_000;
    /** Behind a request that may ask to wait, a probe not answered by then has its connection closed (counted as waiting). */
    private static final int WAITING_PROBE_TIMEOUT_MS = 500;
    private static final Set<ApiKeys> MAY_WAIT = Set.of(ApiKeys.FETCH, ApiKeys.JOIN_GROUP, ApiKeys.SYNC_GROUP);

    @TempDir
    Path dir;

    private record Seed(ApiKeys api, short version, byte[] request) {}

    private enum Outcome { ANSWERED, CLOSED, WAITING }

    @Test
    void mutatedRequestsAreAnsweredOrClosedWithoutLeaksOrBrokerErrors() throws Exception {
        long executions = Long.getLong("capstan.fuzz.executions", 20_000);
        long deadline = System.nanoTime() + Long.getLong("capstan.fuzz.seconds", 365L * 24 * 3600) * 1_000_000_000L;
        Path progress = Path.of("target", "fuzz-progress.log"); // surefire holds the test's output until it ends
        long seed = Long.getLong("capstan.fuzz.seed", System.nanoTime());
        Random random = new Random(seed);
        ConcurrentLinkedQueue<String> leaks = new ConcurrentLinkedQueue<>();
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.valueOf(System.getProperty("capstan.fuzz.leak-level", "PARANOID")));
        byteBufLeaks().setLeakListener((type, records) -> leaks.add(type + ": " + records));
        Map<String, long[]> byApi = new TreeMap<>(); // answered, closed, waiting, nanos
        long started = System.nanoTime();
        // members that never come back would hold each JoinGroup for a whole session; short ones keep executions fast
        // a mutated AlterClientQuotas may set a tiny default quota: a one-second window bounds the pause it causes, and
        // the quotas a mutant set are removed after it, or every later request would wait (request_percentage)
        // mutated CreateTopics and CreatePartitions ask for thousands of partitions: without a bound the long run held
        // 8,206 shards after 200,000 executions and slowed fivefold (every Metadata answer and controller pass grows
        // with them); the broker's own max.partitions keeps that state bounded, so the rate stays flat
        try (TestBroker broker = new TestBroker(dir, Map.of("group.min.session.timeout.ms", "10", "quota.window.num", "1",
                "max.partitions", "1000"))) {
            int port = broker.broker().port();
            List<Seed> seeds = seeds(port, broker);
            int workers = Integer.getInteger("capstan.fuzz.workers", 2);
            System.out.printf("fuzz: seed %d, %d seeds (every advertised API and version), %d executions over %d connections at once%n",
                    seed, seeds.size(), executions, workers);
            java.util.concurrent.atomic.AtomicLong done = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(workers);
            List<java.util.concurrent.Future<Map<String, long[]>>> results = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                long workerSeed = seed + w;
                results.add(pool.submit(() -> fuzz(port, seeds, new Random(workerSeed), workerSeed, executions, deadline, done, started, leaks, progress,
                        () -> clearQuotas(broker))));
            }
            pool.shutdown();
            try {
                for (java.util.concurrent.Future<Map<String, long[]>> r : results) {
                    r.get().forEach((api, c) -> {
                        long[] sum = byApi.computeIfAbsent(api, k -> new long[4]);
                        for (int k = 0; k < 4; k++) {
                            sum[k] += c[k];
                        }
                    });
                }
            } catch (java.util.concurrent.ExecutionException e) {
                pool.shutdownNow();
                throw e.getCause() instanceof AssertionError a ? a : new AssertionError(e.getCause());
            }
            long ran = done.get();
            flushLeakReports(port);
            double seconds = (System.nanoTime() - started) / 1e9;
            long[] total = byApi.values().stream().reduce(new long[3], (a, b) -> new long[] {a[0] + b[0], a[1] + b[1], a[2] + b[2]});
            System.out.printf("fuzz: %d executions in %.0f s (%.0f/s): probe answered %d, connection closed %d, left waiting %d;"
                    + " %d leaks, %.0f internal errors%n", ran, seconds, ran / seconds, total[0], total[1], total[2],
                    leaks.size(), internalErrors(broker));
            byApi.forEach((api, c) -> System.out.printf("  %-28s answered %d, closed %d, waiting %d (%d ms in all)%n", api, c[0], c[1], c[2], c[3] / 1_000_000));
            assertThat(leaks).as("buffers leaked (Netty's paranoid leak detector)").isEmpty();
            assertThat(internalErrors(broker)).as("requests the broker failed by its own fault").isZero();
            // every connection is closed by now: a fetch parked for one of them must have let go (the long run once
            // found 174,372 left behind, slowing every later fetch)
            org.awaitility.Awaitility.await("parked fetches released").atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> broker.broker().parkedFetches() == 0);
            stillServes(broker);
            // the verdict also goes to the progress file: a 10-million run once lost its end to surefire's channel
            // (the fork's output stopped mid-table and its report never arrived), leaving these checks unrecorded
            java.nio.file.Files.writeString(progress, String.format("fuzz: seed %d: %d executions, 0 leaks, 0 internal errors, no fetch"
                    + " left parked, a producer and a consumer served afterwards: passed%n", seed, ran),
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } finally {
            ResourceLeakDetector.setLevel(level);
            byteBufLeaks().setLeakListener(null);
        }
    }

    /**
     * One connection's share of the run: mutants of random seeds, each followed by a probe, until the shared count or
     * the deadline is reached. Its own random numbers ({@code workerSeed}) make its choices repeatable.
     */
    private static Map<String, long[]> fuzz(int port, List<Seed> seeds, Random random, long workerSeed, long executions, long deadline,
                                           java.util.concurrent.atomic.AtomicLong done, long started, ConcurrentLinkedQueue<String> leaks,
                                           Path progress, Runnable afterQuotaChange) throws IOException {
        Map<String, long[]> byApi = new TreeMap<>(); // answered, closed, waiting, nanos
        Probe probe = null;
        try {
            long i;
            while ((i = done.getAndIncrement()) < executions && System.nanoTime() < deadline) {
                if (probe == null) {
                    probe = new Probe(port);
                }
                Seed s = seeds.get(random.nextInt(seeds.size()));
                byte[] mutant = RequestMutator.mutate(s.request(), random);
                long t0 = System.nanoTime();
                Outcome outcome = probe.send(mutant, random.nextInt(50) == 0 ? boundaryLength(random) : mutant.length,
                        MAY_WAIT.contains(s.api()) ? WAITING_PROBE_TIMEOUT_MS : PROBE_TIMEOUT_MS);
                if (outcome == Outcome.WAITING) {
                    assertThat(MAY_WAIT).as("execution %d (worker seed %d): the connection hung after a mutant of %s v%d: %s", i, workerSeed,
                            s.api(), s.version(), java.util.HexFormat.of().formatHex(mutant)).contains(s.api());
                }
                if (s.api() == ApiKeys.ALTER_CLIENT_QUOTAS) {
                    afterQuotaChange.run();
                }
                byApi.computeIfAbsent(s.api().name, k -> new long[4])[outcome.ordinal()]++;
                byApi.get(s.api().name)[3] += System.nanoTime() - t0;
                if (outcome != Outcome.ANSWERED) {
                    probe.close();
                    probe = null;
                }
                if (i > 0 && i % 50_000 == 0) {
                    java.nio.file.Files.writeString(progress, String.format("fuzz: %d of %d executions (%.0f/s), %d leaks so far%n", i,
                            executions, i / ((System.nanoTime() - started) / 1e9), leaks.size()), java.nio.file.StandardOpenOption.CREATE,
                            java.nio.file.StandardOpenOption.APPEND);
                }
            }
            done.decrementAndGet(); // the increment that found the run over was not an execution
        } finally {
            if (probe != null) {
                probe.close();
            }
        }
        return byApi;
    }

    /** Removes every client quota, so one a mutant set does not throttle the rest of the run. */
    private static void clearQuotas(TestBroker broker) {
        io.capstan.broker.quota.ClientQuotaStore quotas = broker.broker().quotas();
        quotas.describe().forEach((entity, values) -> {
            Map<String, Double> removals = new java.util.HashMap<>();
            values.keySet().forEach(k -> removals.put(k, null));
            quotas.alter(entity, removals);
        });
    }

    @Test
    void theLeakCheckSeesABufferNobodyReleased() throws Exception {
        ConcurrentLinkedQueue<String> leaks = new ConcurrentLinkedQueue<>();
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        byteBufLeaks().setLeakListener((type, records) -> leaks.add(type));
        try {
            io.netty.buffer.ByteBufAllocator.DEFAULT.buffer(64).writeLong(1); // never released
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> {
                System.gc();
                io.netty.buffer.ByteBufAllocator.DEFAULT.buffer(8).release(); // the detector reports on its next track
                return !leaks.isEmpty();
            });
        } finally {
            ResourceLeakDetector.setLevel(level);
            byteBufLeaks().setLeakListener(null);
        }
    }

    /**
     * The detector every ByteBuf allocation reports to. Netty keeps it in a package-private field and offers listeners
     * only per detector; the alternative, a detector factory, must be installed before the first buffer exists, which
     * other tests in this JVM have long since allocated.
     */
    private static ResourceLeakDetector<?> byteBufLeaks() throws ReflectiveOperationException {
        java.lang.reflect.Field field = io.netty.buffer.AbstractByteBuf.class.getDeclaredField("leakDetector");
        field.setAccessible(true);
        return (ResourceLeakDetector<?>) field.get(null);
    }

    private static int boundaryLength(Random random) {
        int[] lengths = {-1, Integer.MIN_VALUE, Integer.MAX_VALUE, 0, 200 * 1024 * 1024};
        return lengths[random.nextInt(lengths.length)];
    }

    private static List<Seed> seeds(int port, TestBroker broker) throws IOException {
        List<Seed> seeds = new ArrayList<>();
        try (RawKafkaConnection c = new RawKafkaConnection(port)) {
            IdempotentProduceTest.createTopic(c);
            IdempotentProduceTest.produce(c, Batches.plain("a", "b"));
            Uuid topicId = broker.broker().logs().catalog().topic("t").id();
            ApiVersionsResponseData versions = c.send(ApiKeys.API_VERSIONS, (short) 3, new ApiVersionsRequestData());
            for (ApiVersionsResponseData.ApiVersion v : versions.apiKeys()) {
                ApiKeys api = ApiKeys.forId(v.apiKey());
                for (short version = v.minVersion(); version <= v.maxVersion(); version++) {
                    org.apache.kafka.common.protocol.ApiMessage request = SampleRequests.request(api, version, topicId);
                    if (request instanceof org.apache.kafka.common.message.JoinGroupRequestData join) {
                        join.setSessionTimeoutMs(100).setRebalanceTimeoutMs(100);
                    }
                    seeds.add(new Seed(api, version, RawKafkaConnection.frameBody(api, version, 1, request)));
                }
            }
        }
        return seeds;
    }

    /** Leaked buffers are reported when the detector next tracks one after they were collected. */
    private static void flushLeakReports(int port) throws IOException {
        for (int round = 0; round < 3; round++) {
            System.gc();
            try (RawKafkaConnection c = new RawKafkaConnection(port)) {
                for (int i = 0; i < 50; i++) {
                    c.send(ApiKeys.API_VERSIONS, (short) 3, new ApiVersionsRequestData());
                }
            }
        }
    }

    private static double internalErrors(TestBroker broker) {
        return broker.broker().metrics().registry().scrape().stream()
                .filter(m -> m.getMetadata().getPrometheusName().equals("capstan_request_internal_errors"))
                .flatMap(m -> m.getDataPoints().stream())
                .mapToDouble(d -> ((io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot) d).getValue())
                .sum();
    }

    /** A new topic, a real producer and consumer: the broker serves as before. */
    private static void stillServes(TestBroker broker) throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("after-fuzz", 1, (short) 1))).all().get();
        }
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(broker.clientProps(), new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>("after-fuzz", 0, null, "after-fuzz-" + i)).get();
            }
        }
        assertThat(TestBroker.readFromStart(broker.clientProps(), "after-fuzz", 1, 10)).extracting(r -> r.value())
                .containsExactly("after-fuzz-0", "after-fuzz-1", "after-fuzz-2", "after-fuzz-3", "after-fuzz-4", "after-fuzz-5",
                        "after-fuzz-6", "after-fuzz-7", "after-fuzz-8", "after-fuzz-9");
    }

    /** One connection: a mutant, then an ApiVersions probe whose answer (or the connection's end) is awaited. */
    private static final class Probe implements AutoCloseable {
        private final Socket socket;
        private final DataInputStream in;
        private final DataOutputStream out;
        private int probeId = 1 << 30;

        Probe(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setTcpNoDelay(true);
            in = new DataInputStream(socket.getInputStream());
            out = new DataOutputStream(socket.getOutputStream());
        }

        Outcome send(byte[] mutant, int lengthPrefix, int timeoutMs) throws IOException {
            socket.setSoTimeout(timeoutMs);
            int id = ++probeId;
            byte[] probe = RawKafkaConnection.frameBody(ApiKeys.API_VERSIONS, (short) 3, id, new ApiVersionsRequestData());
            ByteBuffer frames = ByteBuffer.allocate(8 + mutant.length + probe.length);
            frames.putInt(lengthPrefix).put(mutant).putInt(probe.length).put(probe);
            try {
                out.write(frames.array());
                out.flush();
                while (true) {
                    int size = in.readInt();
                    if (size < 4) {
                        throw new AssertionError("a response frame of " + size + " bytes");
                    }
                    int correlationId = in.readInt();
                    in.skipNBytes(size - 4);
                    if (correlationId == id) {
                        return Outcome.ANSWERED;
                    }
                }
            } catch (SocketTimeoutException e) {
                return Outcome.WAITING;
            } catch (IOException e) {
                return Outcome.CLOSED; // end of stream or reset: the broker closed it
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
