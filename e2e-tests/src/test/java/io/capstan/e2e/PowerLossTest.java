package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The durability promise under simulated machine crashes, which SIGKILL alone cannot show (the page cache survives a
 * process): a broker runs with the power-loss shim (PowerLoss); at random moments under an idempotent acks=all load
 * it is SIGKILLed and every write to its data directory that no fsync covered is undone, then it restarts on what a
 * disk would hold. With {@code log.flush.policy=always} no acknowledged record may be lost; with {@code interval}
 * (1 s here) the test must see records lost, and only records acknowledged within the last interval (plus 1 s of
 * scheduling slack) before the crash, as docs/configuration.md says. Both run in the default layout
 * ({@code log.data.files}, decision 0027): batches in data files, here rolled at 64 KiB, each group-commit round framed
 * there with its RocksDB write, so that an acknowledgement waits for the data files' fsync alone and RocksDB's WAL is
 * synced once a second (decision 0033): with {@code always} the rounds a crash took from that WAL must be rebuilt from
 * the data files at the restart, and are counted; a second topic whose records retention drops after a second shares those files, so that they
 * are mostly dead and reclaimed (the checked topic's batches moved to newer files) while the crashes happen. With
 * {@code interval} a moved batch was acknowledged long ago, so losing it would show as a loss older than the interval.
 * (The shim undoes every unsynced write together; a kernel that wrote the WAL back but not the data file is not
 * simulated: that case is why the committer fsyncs moved copies before writing their references.) Data files begin on
 * spares (decision 0034): deleted files kept, whose old rounds the new ones are written over, and in the second run
 * also files written with zeros ahead ({@code log.preallocate}); the crashes cut rounds written over what was there
 * rather than past a file's end. The last two runs keep every batch in RocksDB
 * ({@code log.data.files=false}). Cycles: -Dcapstan.powerloss.cycles (CI: 3).
 */
class PowerLossTest {
    static final String TOPIC = "power";
    /** Data-files mode: records retention drops, sharing the files with the checked topic's. */
    static final String CHURN = "churn";
    static final int PARTITIONS = 3;
    static final long INTERVAL_MS = 1000;
    static final long SLACK_MS = 1000;

    @TempDir
    Path dir;

    private record Acked(AcknowledgedRecords.Ack ack, long ackedAtNanos) {}

    @ParameterizedTest(name = "log.flush.policy={0}")
    @ValueSource(strings = {"always", "always with preallocated data files", "interval", "always with batches in RocksDB",
            "interval with batches in RocksDB"})
    void acknowledgedRecordsSurviveMachineCrashesAsTheFlushPolicyPromises(String mode) throws Exception {
        String policy = mode.split(" ")[0];
        // data files (decision 0027) rolled at 64 KiB, so that the load rolls them many times between crashes
        Map<String, String> settings = new java.util.HashMap<>(Map.of("log.flush.policy", policy,
                "log.flush.interval.ms", String.valueOf(INTERVAL_MS), "disk.min.free.bytes", "0"));
        boolean dataFiles = !mode.endsWith("batches in RocksDB");
        if (dataFiles) {
            // files nothing refers to deleted a second later rather than a minute: kept as spares, new files begin on them
            settings.putAll(Map.of("log.data.file.bytes", "65536", "log.retention.check.interval.ms", "500",
                    "log.segment.delete.delay.ms", "1000"));
        } else {
            settings.put("log.data.files", "false");
        }
        boolean preallocated = mode.endsWith("preallocated data files");
        if (preallocated) {
            settings.put("log.preallocate", "true"); // decision 0034: files begun on spares of zeros, rounds written over them
        }
        int cycles = Integer.getInteger("capstan.powerloss.cycles", 3);
        long seed = Long.getLong("capstan.powerloss.seed", System.nanoTime());
        Random random = new Random(seed);
        Path data = Files.createDirectories(dir.resolve("data"));
        PowerLoss power = new PowerLoss(NativeShim.compile("powerloss"), data, dir.resolve("powerloss.journal"));
        Map<Long, Acked> acked = new ConcurrentHashMap<>();
        AtomicLong nextSeq = new AtomicLong();
        long totalLost = 0;
        long totalUndone = 0;
        long totalUndoneInDataFiles = 0;
        try (BrokerProcess broker = new BrokerProcess(data, Path.of("target", "powerloss-logs", mode.replace(' ', '-')), settings)
                .withEnvironment(power.environment())) {
            broker.start();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrap()))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get();
                if (dataFiles) {
                    admin.createTopics(List.of(new NewTopic(CHURN, 1, (short) 1).configs(Map.of("retention.ms", "1000")))).all().get();
                }
            }
            for (int cycle = 1; cycle <= cycles; cycle++) {
                AtomicReference<Exception> sendFailure = new AtomicReference<>();
                AtomicBoolean running = new AtomicBoolean(true);
                AtomicLong crashedAt = new AtomicLong(Long.MAX_VALUE);
                // a producer per cycle: after a loss the broker no longer knows the sequence numbers the last one used
                java.util.Properties producerProps = AcknowledgedRecords.durableProducer(broker.bootstrap());
                if (dataFiles) {
                    // batches of about 50 records, over the 512 bytes below which a batch stays inline in RocksDB
                    producerProps.put("linger.ms", "50");
                }
                KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer());
                Thread load = new Thread(() -> {
                    long start = System.nanoTime();
                    long sent = 0;
                    while (running.get()) {
                        long due = start + sent++ * 1_000_000_000L / 3_000; // load shaping, not synchronisation
                        java.util.concurrent.locks.LockSupport.parkNanos(due - System.nanoTime());
                        long seq = nextSeq.getAndIncrement();
                        try {
                            producer.send(new ProducerRecord<>(TOPIC, (int) (seq % PARTITIONS), null, AcknowledgedRecords.value(seq)), (md, e) -> {
                            long now = System.nanoTime();
                            if (e == null) {
                                acked.put(seq, new Acked(new AcknowledgedRecords.Ack(md.partition(), md.offset(), seq), now));
                            } else if (now < crashedAt.get()) {
                                sendFailure.compareAndSet(null, e);
                            }
                        });
                            if (dataFiles && seq % 2 == 0) {
                                producer.send(new ProducerRecord<>(CHURN, null, new byte[1024]), (md, e) -> {
                                    if (e != null && System.nanoTime() < crashedAt.get()) {
                                        sendFailure.compareAndSet(null, e);
                                    }
                                });
                            }
                        } catch (IllegalStateException closed) {
                            return; // closed after the crash
                        }
                    }
                }, "powerloss-load");
                load.start();
                Thread.sleep(1000 + random.nextInt(2000)); // the fault schedule, not synchronisation
                crashedAt.set(System.nanoTime());
                broker.kill();
                running.set(false);
                producer.close(Duration.ZERO); // a send blocked on metadata returns at once
                load.join();
                PowerLoss.Cut cut = power.cut();
                totalUndone += cut.writesUndone();
                totalUndoneInDataFiles += cut.changed().stream().filter(f -> f.getFileName().toString().endsWith(".batches")).count();
                assertThat(sendFailure.get()).as("producer error before the crash").isNull();
                broker.start();

                Map<Long, AcknowledgedRecords.Ack> expected = new java.util.HashMap<>();
                acked.forEach((seq, a) -> expected.put(seq, a.ack()));
                List<AcknowledgedRecords.Ack> lost = AcknowledgedRecords.lost(
                        ClientSecurity.NONE.client(broker.bootstrap()), TOPIC, PARTITIONS, expected);
                long oldestLostMsBeforeCrash = 0;
                for (AcknowledgedRecords.Ack ack : lost) {
                    oldestLostMsBeforeCrash = Math.max(oldestLostMsBeforeCrash, (crashedAt.get() - acked.get(ack.seq()).ackedAtNanos()) / 1_000_000);
                    acked.remove(ack.seq()); // lost and reported; later cycles check the rest
                }
                totalLost += lost.size();
                System.out.printf("cycle %d/%d (%s): machine crash undid %d writes (%d bytes) in %d files; %d acknowledged records checked,"
                                + " %d lost (the oldest acknowledged %d ms before the crash)%n", cycle, cycles, mode, cut.writesUndone(),
                        cut.bytesUndone(), cut.files(), expected.size(), lost.size(), oldestLostMsBeforeCrash);
                if (policy.equals("always")) {
                    assertThat(lost).as("acknowledged records lost with log.flush.policy=always").isEmpty();
                } else {
                    assertThat(oldestLostMsBeforeCrash).as("only the last log.flush.interval.ms (%d ms) and %d ms of slack are lost",
                            INTERVAL_MS, SLACK_MS).isLessThanOrEqualTo(INTERVAL_MS + SLACK_MS);
                }
            }
            System.out.printf("power-loss test (log.flush.policy=%s): seed %d, %d machine crashes, %d writes undone, %d acknowledged records lost%n",
                    mode, seed, cycles, totalUndone, totalLost);
            assertThat(totalUndone).as("the crashes took unsynced writes away").isPositive();
            if (dataFiles) {
                long inFiles;
                try (java.util.stream.Stream<Path> files = Files.list(data.resolve("batches"))) {
                    inFiles = files.filter(f -> f.toString().endsWith(".batches")).mapToLong(f -> f.toFile().length()).sum();
                }
                assertThat(inFiles).as("bytes in data files: the batches went there").isGreaterThan(100_000);
                // whether a crash falls between a data file's write and its sync is chance (the window is a round's
                // fsync); DataFilesTest cuts such a tail deterministically
                System.out.printf("power-loss test (%s): %d crashes took unsynced writes away from a data file%n", mode, totalUndoneInDataFiles);
                long reclaims = Files.readAllLines(broker.logFile()).stream().filter(l -> l.contains("reclaimed data file")).count();
                System.out.printf("power-loss test (%s): %d data files reclaimed between and across the crashes%n", mode, reclaims);
                assertThat(reclaims).as("mostly dead data files reclaimed while the checked records were written").isPositive();
                // acknowledged once the data files were synced, the rounds RocksDB's unsynced WAL lost came back from them
                long rebuilt = Files.readAllLines(broker.logFile()).stream().filter(l -> l.contains("group-commit rounds of the log index"))
                        .mapToLong(l -> Long.parseLong(l.replaceAll(".*rebuilt (\\d+) group-commit rounds.*", "$1"))).sum();
                System.out.printf("power-loss test (%s): %d rounds rebuilt from the data files across the crashes%n", mode, rebuilt);
                // spares are deleted files kept (recycled) and, with log.preallocate, files written with zeros (decision 0034)
                long begunOnSpares = Files.readAllLines(broker.logFile()).stream().filter(l -> l.contains("begun on a spare")).count();
                System.out.printf("power-loss test (%s): %d data files begun on spares%n", mode, begunOnSpares);
                assertThat(begunOnSpares).as("data files begun on spares, the crashes cutting rounds written over what was there").isPositive();
                if (policy.equals("always")) {
                    assertThat(rebuilt).as("rounds the crashes took from RocksDB's WAL, rebuilt from the data files").isPositive();
                }
            }
            if (policy.equals("interval")) {
                assertThat(totalLost).as("with interval, a machine crash loses what the last interval acknowledged").isPositive();
            }
        }
    }
}
