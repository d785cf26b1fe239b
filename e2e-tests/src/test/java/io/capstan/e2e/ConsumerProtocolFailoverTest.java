package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.cluster.controller.FailoverController;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A consumer-protocol group (KIP-848) on three broker processes while the broker coordinating it (the leader of the
 * offsets shard) is SIGKILLed. Its members and what they hold are in the replicated offsets shard (decision 0026): the
 * new coordinator resumes the group and the members go on at their epochs, without rejoining. Checked: every
 * acknowledged record (acks=all, 3 replicas) is processed at least once; no partition owned by two members at once
 * and none lost by a member; committed offsets never go backwards; the group is Stable again with both members at the
 * new coordinator; the longest pause of a member is reported.
 */
class ConsumerProtocolFailoverTest {
    static final String TOPIC = GroupRebalanceTest.TOPIC; // what GroupRebalanceTest.Member subscribes to
    static final String GROUP = "failover-kip848";
    static final int PARTITIONS = 6;
    static final int BROKERS = 3;

    @TempDir
    Path dir;

    private final BrokerProcess[] brokers = new BrokerProcess[BROKERS];

    @AfterEach
    void stopEverything() throws InterruptedException {
        BrokerProcess.stopAll(brokers);
    }

    @Test
    void membersRejoinTheNewCoordinatorAndEveryAcknowledgedRecordIsProcessed() throws Exception {
        Path metadata = dir.resolve("metadata");
        LocalFileMetadataStore store = new LocalFileMetadataStore(metadata, 100);
        for (int id = 0; id < BROKERS; id++) {
            brokers[id] = new BrokerProcess(dir.resolve("broker-" + id), Path.of("target", "consumer-failover-logs", "broker-" + id),
                    Map.of("node.id", String.valueOf(id), "metadata.dir", metadata.toString(), "broker.lease.ms", "2000",
                            "replica.lag.time.max.ms", "3000", "replica.fetch.max.wait.ms", "100", "disk.min.free.bytes", "0",
                            "default.replication.factor", "3", "min.insync.replicas", "2",
                            "group.consumer.heartbeat.interval.ms", "500", "group.consumer.session.timeout.ms", "6000"));
            brokers[id].start();
        }
        try (FailoverController controller = new FailoverController(store, System::currentTimeMillis)) {
            controller.start(100);
            String bootstrap = BrokerProcess.bootstrap(brokers);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3))).all().get();
            }
            StoreShards.awaitAllInSync(store, TOPIC, PARTITIONS, BROKERS);

            Set<String> processed = ConcurrentHashMap.newKeySet();
            Set<String> acked = ConcurrentHashMap.newKeySet();
            AtomicLong sent = new AtomicLong();
            AtomicReference<Exception> sendFailure = new AtomicReference<>();
            AtomicBoolean producing = new AtomicBoolean(true);
            Thread load = new Thread(() -> produce(bootstrap, acked, sent, sendFailure, producing), "load");
            load.start();
            GroupRebalanceTest.Ownership ownership = new GroupRebalanceTest.Ownership();
            Map<String, String> consumerProtocol = Map.of("group.protocol", "consumer", "metadata.max.age.ms", "2000",
                    "request.timeout.ms", "5000");
            List<GroupRebalanceTest.Member> members = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                GroupRebalanceTest.Member m = new GroupRebalanceTest.Member(bootstrap, GROUP, processed, "member-" + i, ownership,
                        consumerProtocol);
                members.add(m);
                m.thread.start();
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> members.stream().allMatch(m -> m.deliveries.size() > 20)
                    && stable(bootstrap));
            StoreShards.awaitAllInSync(store, "__capstan_offsets", 1, BROKERS);
            GroupRebalanceTest.CommittedOffsets committed = new GroupRebalanceTest.CommittedOffsets(bootstrap, GROUP, 15_000);
            Thread sampler = new Thread(committed::sampleUntilStopped, "committed-offsets");
            sampler.start();

            int coordinator = StoreShards.shard(store, "__capstan_offsets", 0).leader();
            long killedAt = System.nanoTime();
            brokers[coordinator].kill();
            System.out.printf("SIGKILL of broker %d, the group coordinator%n", coordinator);
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                int leader = StoreShards.shard(store, "__capstan_offsets", 0).leader();
                return leader >= 0 && leader != coordinator;
            });
            await().atMost(Duration.ofSeconds(90)).until(() -> members.stream().allMatch(m -> lastDelivery(m) > killedAt + 2_000_000_000L)
                    && stable(bootstrap));
            long recovered = System.nanoTime();
            long worstPause = members.stream().mapToLong(m -> m.longestGapMs(killedAt, recovered)).max().orElseThrow();
            System.out.printf("coordinator failover: both members consuming again at the new coordinator; longest pause of a member %d ms;"
                    + " group Stable %d ms after the kill%n", worstPause, (recovered - killedAt) / 1_000_000);
            brokers[coordinator].start();

            producing.set(false);
            load.join();
            await().atMost(Duration.ofSeconds(90)).until(() -> processed.containsAll(acked));
            for (GroupRebalanceTest.Member m : members) {
                m.stop();
            }
            committed.stop();
            sampler.join(30_000);
            assertThat(sendFailure.get()).as("producer error").isNull();
            assertThat(acked).isNotEmpty().hasSize((int) sent.get());
            assertThat(processed).as("every acknowledged record was processed at least once").containsAll(acked);
            assertThat(ownership.violations).as("partitions owned by two members at once").isEmpty();
            assertThat(ownership.lost()).as("partitions members lost (a rejoin) when the coordinator moved").isZero();
            assertThat(committed.violations).as("committed offsets that went backwards or past the log end").isEmpty();
            assertThat(committed.samples.get()).isPositive();
            System.out.printf("consumer-protocol failover test: %d records acknowledged, all processed; %d ownership changes, never two owners;"
                    + " %d committed-offset samples (%d skipped while the coordinator moved), never backwards%n", acked.size(),
                    ownership.changes(), committed.samples.get(), committed.skipped.get());
        }
    }

    private static long lastDelivery(GroupRebalanceTest.Member m) {
        return m.deliveries.isEmpty() ? 0 : m.deliveries.get(m.deliveries.size() - 1);
    }

    private static boolean stable(String bootstrap) {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(GROUP)).all().get().get(GROUP);
            return d.groupState() == GroupState.STABLE && d.members().size() == 2
                    && d.members().stream().allMatch(m -> !m.assignment().topicPartitions().isEmpty());
        } catch (Exception e) {
            return false; // the coordinator is moving: ask again
        }
    }

    private static void produce(String bootstrap, Set<String> acked, AtomicLong sent, AtomicReference<Exception> failure, AtomicBoolean producing) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("acks", "all");
        p.put("linger.ms", "5");
        p.put("metadata.max.age.ms", "2000");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            long start = System.nanoTime();
            long i = 0;
            while (producing.get()) {
                long due = start + i * 1_000_000_000L / 1_000; // 1,000 records/s: the load, not synchronisation
                java.util.concurrent.locks.LockSupport.parkNanos(due - System.nanoTime());
                String value = "f" + i++;
                sent.incrementAndGet();
                producer.send(new ProducerRecord<>(TOPIC, (int) (i % PARTITIONS), null, value), (md, e) -> {
                    if (e == null) {
                        acked.add(value);
                    } else {
                        failure.compareAndSet(null, e);
                    }
                });
            }
            producer.flush();
        }
    }
}
