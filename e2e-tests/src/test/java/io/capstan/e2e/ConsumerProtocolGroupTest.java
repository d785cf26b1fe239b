package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.broker.Broker;
import io.capstan.broker.group.modern.ConsumerGroupView;
import io.capstan.config.BrokerConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One consumer-protocol group (KIP-848, group.protocol=consumer) of Java members (kafka-clients, in process) and, in
 * their own processes, a librdkafka member (confluent-kafka) and a Java member, under continuous load: a fifth member
 * joins four (the pause each existing member sees is measured, as GroupRebalanceTest measures it for the classic
 * cooperative protocol), leaves again; the two out-of-process members join (the pause measured again) and are
 * SIGKILLed together, so only the session timeout tells the coordinator. Checked: the producer sees no error; every
 * acknowledged record is processed at least once; no partition is ever owned by two in-process members at once; the
 * committed offsets never go backwards or past the log end; the librdkafka member reports no error; existing members
 * never stop for 5 s or more while others join (the pauses measured are printed; docs/operations.md quotes them).
 */
class ConsumerProtocolGroupTest {
    static final String GROUP = "kip848";

    @TempDir
    Path dir;

    /** An out-of-process member: its output lines, what it processed, and the errors it printed. */
    static final class Outside {
        final Process process;
        final AtomicLong delivered = new AtomicLong();
        final List<Long> deliveries = new CopyOnWriteArrayList<>();
        final List<String> errors = new CopyOnWriteArrayList<>();
        final Thread reader;

        Outside(String name, List<String> command, Set<String> processed, DeliveryLedger ledger) throws java.io.IOException {
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream()))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        GroupRebalanceTest.readMemberLine(name, line, processed, ledger);
                        if (line.startsWith("R ")) {
                            if (delivered.incrementAndGet() % 50 == 1) {
                                deliveries.add(System.nanoTime());
                            }
                        } else if (line.startsWith("E ")) {
                            errors.add(line);
                        }
                    }
                } catch (java.io.IOException ignored) {
                    // the process was killed
                }
            });
            reader.start();
        }

        void kill() throws InterruptedException {
            GroupRebalanceTest.killKeepingOutput(process);
            reader.join(30_000);
            assertThat(reader.isAlive()).as("a killed member's output read to its end").isFalse();
        }
    }

    @Test
    void javaAndLibrdkafkaMembersShareAGroupThroughJoinLeaveAndCrash() throws Exception {
        ClientCompatibilityTest.require(ClientCompatibilityTest.exitCode(List.of("python3", "-c", "import confluent_kafka")) == 0,
                "pip install confluent-kafka");
        Map<String, String> settings = Map.of("data.dir", dir.toString(), "listener.port", "0", "admin.port", "-1",
                "group.consumer.session.timeout.ms", "6000", "group.consumer.heartbeat.interval.ms", "500");
        try (Broker broker = new Broker(BrokerConfig.from(settings), settings)) {
            String bootstrap = broker.bootstrap();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.createTopics(List.of(new NewTopic(GroupRebalanceTest.TOPIC, GroupRebalanceTest.PARTITIONS, (short) 1))).all().get();
            }
            Set<String> processed = ConcurrentHashMap.newKeySet();
            Set<String> acked = ConcurrentHashMap.newKeySet();
            Map<String, Long> ackedOffsets = new ConcurrentHashMap<>();
            AtomicLong sent = new AtomicLong();
            AtomicReference<Exception> sendFailure = new AtomicReference<>();
            AtomicBoolean producing = new AtomicBoolean(true);
            Thread load = new Thread(() -> GroupRebalanceTest.produce(bootstrap, acked, ackedOffsets, sent, sendFailure, producing), "load");
            load.start();
            GroupRebalanceTest.Ownership ownership = new GroupRebalanceTest.Ownership();
            GroupRebalanceTest.CommittedOffsets committed = new GroupRebalanceTest.CommittedOffsets(bootstrap, GROUP, 5_000);
            Thread sampler = new Thread(committed::sampleUntilStopped, "committed-offsets");
            sampler.start();
            Map<String, String> consumerProtocol = Map.of("group.protocol", "consumer");

            List<GroupRebalanceTest.Member> members = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                GroupRebalanceTest.Member m = new GroupRebalanceTest.Member(bootstrap, GROUP, processed, "member-" + i, ownership, consumerProtocol);
                members.add(m);
                m.thread.start();
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> members.stream().allMatch(m -> m.deliveries.size() > 20)
                    && group(broker).state() == io.capstan.broker.group.modern.ConsumerGroup.State.STABLE);

            long joinAt = System.nanoTime();
            GroupRebalanceTest.Member fifth = new GroupRebalanceTest.Member(bootstrap, GROUP, processed, "member-4", ownership, consumerProtocol);
            fifth.thread.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> fifth.deliveries.size() > 20);
            long settled = System.nanoTime();
            long javaJoinPause = members.stream().mapToLong(m -> m.longestGapMs(joinAt, settled)).max().orElseThrow();
            System.out.printf("a fifth Java member joined a 4-member consumer-protocol group under load: it received records after %d ms;"
                    + " longest pause of an existing member %d ms%n", (fifth.deliveries.get(0) - joinAt) / 1_000_000, javaJoinPause);
            fifth.stop();
            await().atMost(Duration.ofSeconds(60)).until(() -> group(broker).members().size() == 4);

            long outsideJoinAt = System.nanoTime();
            Outside librdkafka = new Outside("librdkafka", List.of("python3", "src/test/python/group_member.py", bootstrap, GROUP,
                    GroupRebalanceTest.TOPIC, "consumer"), processed, ownership.ledger);
            Outside javaProcess = new Outside("java-process", List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    System.getProperty("java.class.path"), "io.capstan.e2e.compat.GroupMember", bootstrap, GROUP, GroupRebalanceTest.TOPIC,
                    "consumer"), processed, ownership.ledger);
            await().atMost(Duration.ofSeconds(90)).until(() -> librdkafka.delivered.get() > 100 && javaProcess.delivered.get() > 100);
            long outsideSettled = System.nanoTime();
            long outsideJoinPause = members.stream().mapToLong(m -> m.longestGapMs(outsideJoinAt, outsideSettled)).max().orElseThrow();
            ConsumerGroupView six = group(broker);
            assertThat(six.members()).hasSize(6);
            assertThat(six.members()).extracting(ConsumerGroupView.Member::clientId).anyMatch(id -> id.startsWith("rdkafka"));
            System.out.printf("a librdkafka and a Java process member joined: both received records within %d ms; longest pause of an"
                    + " existing member %d ms%n", (outsideSettled - outsideJoinAt) / 1_000_000, outsideJoinPause);

            librdkafka.kill();
            javaProcess.kill();
            int epochAtCrash = group(broker).groupEpoch();
            // only the session timeout (group.consumer.session.timeout.ms) can tell the coordinator of SIGKILLed members
            await().atMost(Duration.ofSeconds(60)).until(() -> group(broker).members().size() == 4 && group(broker).groupEpoch() > epochAtCrash);

            producing.set(false);
            load.join();
            try {
                await().atMost(Duration.ofSeconds(90)).until(() -> processed.containsAll(acked));
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                throw new AssertionError(GroupRebalanceTest.missingReport(acked, ackedOffsets, processed, ownership.ledger, bootstrap)
                        + "; group " + group(broker), e);
            }
            for (GroupRebalanceTest.Member m : members) {
                m.stop();
            }
            committed.stop();
            sampler.join(30_000);
            assertThat(sendFailure.get()).as("producer error").isNull();
            assertThat(acked).isNotEmpty().hasSize((int) sent.get());
            assertThat(processed).as("every acknowledged record was processed at least once").containsAll(acked);
            assertThat(ownership.violations).as("partitions owned by two members at once").isEmpty();
            assertThat(ownership.ledger.skips()).as("offsets a fetch skipped while a member owned the partition").isEmpty();
            assertThat(ownership.changes()).as("ownership changes seen").isPositive();
            assertThat(committed.violations).as("committed offsets that went backwards or past the log end").isEmpty();
            assertThat(committed.samples.get()).as("committed-offset samples").isPositive();
            assertThat(librdkafka.errors).as("errors librdkafka reported").isEmpty();
            assertThat(javaJoinPause).as("existing members keep consuming while a Java member joins").isLessThan(5_000);
            assertThat(outsideJoinPause).as("existing members keep consuming while two process members join").isLessThan(5_000);
            System.out.printf("consumer-protocol group test: %d records produced, all processed at least once; librdkafka member processed"
                    + " %d and the Java process %d before SIGKILL; %d ownership changes, never two owners; %d samples of committed"
                    + " offsets, never backwards%n", acked.size(), librdkafka.delivered.get(), javaProcess.delivered.get(),
                    ownership.changes(), committed.samples.get());
        }
    }

    private static ConsumerGroupView group(Broker broker) {
        ConsumerGroupView view = broker.groups().describeConsumerGroup(GROUP);
        if (view == null) {
            throw new AssertionError("no consumer-protocol group " + GROUP + " on the broker");
        }
        return view;
    }
}
