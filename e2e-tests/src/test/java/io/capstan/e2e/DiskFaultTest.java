package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk whose fsync starts failing under a broker process in the middle of acks=all load. The fault is real at the
 * libc boundary: an LD_PRELOAD shim (src/test/c/failsync.c, compiled here with gcc) makes fsync and fdatasync of the
 * data directory return EIO while a flag file exists; RocksDB's WAL sync goes through them. After a failed fsync
 * nobody knows what the WAL holds, so the broker must answer no producer with success for what it held and stop (as
 * Kafka and PostgreSQL do), rather than go on and let a later sync publish records their producers were told failed.
 * Restarted on a healthy disk, it recovers, and the same idempotent producer finishes with every record acknowledged,
 * each in the log once, in order.
 */
class DiskFaultTest {
    private static final String TOPIC = "disk-fault";
    private static final int PARTITIONS = 3;
    private static Path shim;

    @TempDir
    Path dir;

    @BeforeAll
    static void buildShim() throws Exception {
        shim = NativeShim.compile("failsync");
    }

    @Test
    void aFailedWalFsyncStopsTheBrokerAndAfterARestartNoAcknowledgedRecordIsLost() throws Exception {
        Path data = dir.resolve("data");
        Path flag = dir.resolve("fail-fsync");
        Map<Long, AcknowledgedRecords.Ack> acked = new ConcurrentHashMap<>();
        AtomicReference<Exception> sendFailure = new AtomicReference<>();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong nextSeq = new AtomicLong();
        try (BrokerProcess broker = new BrokerProcess(data, Path.of("target", "disk-fault-logs"), Map.of()).withEnvironment(Map.of(
                "LD_PRELOAD", shim.toString(),
                "CAPSTAN_FAULT_FLAG", flag.toString(),
                "CAPSTAN_FAULT_UNDER", data.toAbsolutePath() + "/",
                "CAPSTAN_FAULT_SKIP", "/capstan-metadata/"))) {
            broker.start();
            try (Admin admin = Admin.create(ClientSecurity.NONE.client(broker.bootstrap()))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get();
            }
            KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(AcknowledgedRecords.durableProducer(broker.bootstrap()),
                    new ByteArraySerializer(), new ByteArraySerializer());
            Thread load = new Thread(() -> {
                long start = System.nanoTime();
                while (running.get() && sendFailure.get() == null) {
                    long seq = nextSeq.getAndIncrement();
                    // a steady 5,000 records/s: load shaping, not synchronisation
                    java.util.concurrent.locks.LockSupport.parkNanos(start + seq * 200_000L - System.nanoTime());
                    producer.send(new ProducerRecord<>(TOPIC, (int) (seq % PARTITIONS), null, AcknowledgedRecords.value(seq)), (md, e) -> {
                        if (e != null) {
                            sendFailure.compareAndSet(null, e);
                        } else {
                            acked.put(seq, new AcknowledgedRecords.Ack(md.partition(), md.offset(), seq));
                        }
                    });
                }
            }, "disk-fault-load");
            load.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() >= 2_000);

            Files.createFile(flag); // from now on every fsync of the data directory fails with EIO
            int status = broker.awaitExit(Duration.ofSeconds(30));
            Map<Long, AcknowledgedRecords.Ack> ackedBeforeExit = new HashMap<>(acked);
            assertThat(status).as("the broker halted itself with the fatal-error status").isEqualTo(70);
            assertThat(Files.readString(broker.logFile())).contains("FATAL: the WAL fsync failed");

            Files.delete(flag); // the disk is healthy again (as after a volume is replaced or remounted)
            broker.start();
            long verifiedAfterRestart = AcknowledgedRecords.verify(broker.bootstrap(), TOPIC, PARTITIONS, ackedBeforeExit);
            running.set(false);
            load.join();
            producer.flush();
            producer.close(Duration.ofSeconds(60));
            assertThat(sendFailure.get()).as("the producer retried through the stop and finished").isNull();
            long all = AcknowledgedRecords.verify(broker.bootstrap(), TOPIC, PARTITIONS, new HashMap<>(acked));
            assertThat(all).isEqualTo(nextSeq.get());
            System.out.printf("disk fault: %d records acknowledged before the failed fsync stopped the broker, all there after "
                    + "the restart; %d acknowledged in all, each once and in order%n", verifiedAfterRestart, all);
        }
    }
}
