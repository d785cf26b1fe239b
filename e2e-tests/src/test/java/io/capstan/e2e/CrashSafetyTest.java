package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
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
 * The durability promise under real crashes: a broker JVM is SIGKILLed at random moments while an idempotent
 * acks=all producer writes; after every restart, every acknowledged record must be in the log exactly once, at
 * the offset it was acknowledged with, byte for byte, in send order. Cycles: -Dcapstan.crash.cycles (CI: 5);
 * load: -Dcapstan.crash.rate records/s (default 5000). Runs in the clear and again with SASL_SSL (SCRAM over TLS,
 * ACLs on).
 */
class CrashSafetyTest {
    static final String TOPIC = "crash";
    static final int PARTITIONS = 3;

    @TempDir
    Path dir;


    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"PLAINTEXT", "SASL_SSL"})
    void everyAcknowledgedRecordSurvivesRepeatedSigkill(String protocol) throws Exception {
        ClientSecurity security = protocol.equals("SASL_SSL") ? ClientSecurity.saslSsl(java.nio.file.Files.createDirectories(dir.resolve("tls")))
                : ClientSecurity.NONE;
        security.createUsers(dir.resolve("data"));
        int cycles = Integer.getInteger("capstan.crash.cycles", 5);
        long seed = Long.getLong("capstan.crash.seed", System.nanoTime());
        Random random = new Random(seed);
        Path logs = Path.of("target", "crash-logs", protocol);
        Map<Long, AcknowledgedRecords.Ack> acked = new ConcurrentHashMap<>();
        AtomicReference<Exception> sendFailure = new AtomicReference<>();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong nextSeq = new AtomicLong();
        long totalVerified = 0;
        try (BrokerProcess broker = new BrokerProcess(dir.resolve("data"), logs, security.brokerSettings())) {
            broker.start();
            try (Admin admin = Admin.create(security.client(broker.bootstrap()))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get();
            }
            KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(AcknowledgedRecords.durableProducer(security.client(broker.bootstrap())), new ByteArraySerializer(), new ByteArraySerializer());
            long rate = Long.getLong("capstan.crash.rate", 5_000);
            Thread load = new Thread(() -> {
                long start = System.nanoTime();
                while (running.get() && sendFailure.get() == null) {
                    long seq = nextSeq.getAndIncrement();
                    // a steady rate keeps each verification small; the pace is load shaping, not synchronisation
                    long due = start + seq * 1_000_000_000L / rate;
                    java.util.concurrent.locks.LockSupport.parkNanos(due - System.nanoTime());
                    producer.send(new ProducerRecord<>(TOPIC, (int) (seq % PARTITIONS), null, AcknowledgedRecords.value(seq)), (md, e) -> {
                        if (e != null) {
                            sendFailure.compareAndSet(null, e);
                        } else {
                            acked.put(seq, new AcknowledgedRecords.Ack(md.partition(), md.offset(), seq));
                        }
                    });
                }
            }, "crash-load");
            load.start();
            for (int cycle = 1; cycle <= cycles; cycle++) {
                long before = acked.size();
                Thread.sleep(300 + random.nextInt(1500)); // load runs for a random while: this is the fault schedule, not synchronisation
                Map<Long, AcknowledgedRecords.Ack> snapshot = new HashMap<>(acked);
                broker.kill();
                broker.start();
                long verified = AcknowledgedRecords.verify(security.client(broker.bootstrap()), TOPIC, PARTITIONS, snapshot);
                totalVerified = verified;
                System.out.printf("cycle %d/%d: SIGKILL with %d records acknowledged (%d new this cycle); after restart all %d verified%n",
                        cycle, cycles, snapshot.size(), snapshot.size() - before, verified);
                assertThat(sendFailure.get()).as("producer error").isNull();
            }
            running.set(false);
            load.join();
            producer.flush();
            producer.close(Duration.ofSeconds(60));
            assertThat(sendFailure.get()).as("producer error").isNull();
            long finalCount = AcknowledgedRecords.verify(security.client(broker.bootstrap()), TOPIC, PARTITIONS, new HashMap<>(acked));
            System.out.printf("crash test (" + protocol + "): seed %d, %d SIGKILL cycles, %d records acknowledged, 0 lost, 0 duplicated%n", seed, cycles, finalCount);
            assertThat(finalCount).isEqualTo(nextSeq.get());
            assertThat(totalVerified).isPositive();
        }
    }
}
