package io.capstan.broker.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.broker.Broker;
import io.capstan.config.BrokerConfig;
import io.capstan.broker.log.Shard;
import io.capstan.cluster.controller.FailoverController;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.ShardState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real brokers in this JVM on 127.0.0.1 sharing a local metadata store, a controller, and real kafka-clients:
 * replication, acks=all with min.insync.replicas, failover without loss, and ISR shrink and expand.
 */
class ReplicatedClusterTest {
    private static final long REPLICA_LAG_MS = 1500;
    @TempDir
    Path dir;

    private final Broker[] brokers = new Broker[3];
    private LocalFileMetadataStore store;
    private FailoverController controller;

    private Broker start(int id) {
        Map<String, String> s = new HashMap<>();
        s.put("node.id", String.valueOf(id));
        s.put("listener.port", "0");
        s.put("admin.port", "0");
        s.put("data.dir", dir.resolve("broker-" + id).toString());
        s.put("metadata.dir", dir.resolve("metadata").toString());
        s.put("disk.min.free.bytes", "0");
        s.put("broker.lease.ms", "1500");
        s.put("broker.heartbeat.interval.ms", "500");
        s.put("replica.lag.time.max.ms", String.valueOf(REPLICA_LAG_MS));
        s.put("replica.fetch.max.wait.ms", "100");
        s.put("log.cleaner.backoff.ms", "200"); // only compacted topics are touched by it
        brokers[id] = new Broker(BrokerConfig.from(s), s);
        return brokers[id];
    }

    private void startCluster() {
        store = new LocalFileMetadataStore(dir.resolve("metadata"), 100);
        for (int i = 0; i < 3; i++) {
            start(i);
        }
        controller = new FailoverController(store, System::currentTimeMillis);
        controller.start(100);
    }

    @AfterEach
    void stop() {
        if (controller != null) {
            controller.close();
            controller = null;
        }
        for (int i = 0; i < brokers.length; i++) {
            if (brokers[i] != null) {
                brokers[i].close();
                brokers[i] = null;
            }
        }
        if (store != null) {
            store.close();
            store = null;
        }
    }

    private String bootstrap() {
        List<String> all = new ArrayList<>();
        for (Broker b : brokers) {
            if (b != null) {
                all.add(b.bootstrap());
            }
        }
        return String.join(",", all);
    }

    /** A metric's value on {@code broker}'s registry, summed over its labels (as /metrics serves it). */
    static double metric(Broker broker, String name) {
        double sum = 0;
        boolean found = false;
        for (io.prometheus.metrics.model.snapshots.MetricSnapshot m : broker.metrics().registry().scrape()) {
            String base = m.getMetadata().getPrometheusName();
            if (!name.equals(base) && !name.equals(base + "_total")) {
                continue;
            }
            found = true;
            for (io.prometheus.metrics.model.snapshots.DataPointSnapshot d : m.getDataPoints()) {
                if (d instanceof io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot g) {
                    sum += g.getValue();
                } else if (d instanceof io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot c) {
                    sum += c.getValue();
                }
            }
        }
        assertThat(found).as("metric %s is exported", name).isTrue();
        return sum;
    }

    /** How many metadata-store requests of this operation and outcome the broker's histogram counted. */
    private static long requestsTimed(Broker broker, String operation, String outcome) {
        for (io.prometheus.metrics.model.snapshots.MetricSnapshot m : broker.metrics().registry().scrape()) {
            if (!m.getMetadata().getPrometheusName().equals("capstan_metadata_store_request_seconds")) {
                continue;
            }
            for (io.prometheus.metrics.model.snapshots.DataPointSnapshot d : m.getDataPoints()) {
                if (d instanceof io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot h
                        && operation.equals(h.getLabels().get("operation")) && outcome.equals(h.getLabels().get("outcome"))) {
                    return h.getCount();
                }
            }
        }
        return 0;
    }

    private ShardState state(String topic, int partition) {
        return new io.capstan.cluster.metadata.ShardStore(store).get(topic, partition).orElseThrow().state();
    }

    private KafkaProducer<String, String> producer() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        p.put("delivery.timeout.ms", "60000");
        p.put("request.timeout.ms", "5000");
        p.put("retry.backoff.ms", "50");
        p.put("metadata.max.age.ms", "1000");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private void createTopic(String name, int partitions, Map<String, String> configs) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 3).configs(configs))).all().get();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                TopicDescription d = admin.describeTopics(List.of(name)).allTopicNames().get().get(name);
                return d.partitions().stream().allMatch(info -> info.leader() != null && info.isr().size() == 3);
            });
        }
    }

    private List<String> produce(KafkaProducer<String, String> producer, String topic, int from, int count) throws Exception {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        List<String> values = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            values.add("v" + i);
            sent.add(producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)));
        }
        for (Future<RecordMetadata> f : sent) {
            f.get();
        }
        return values;
    }

    private List<String> consumeAll(String topic, int expected) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        p.put("enable.auto.commit", "false");
        p.put("auto.offset.reset", "earliest");
        p.put("metadata.max.age.ms", "1000");
        List<String> got = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.currentTimeMillis() + 60_000;
            while (got.size() < expected && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    got.add(r.value());
                }
            }
        }
        return got;
    }

    @Test
    void acknowledgedRecordsSurviveTheLeadersFailure() throws Exception {
        startCluster();
        createTopic("orders", 1, Map.of("min.insync.replicas", "2"));
        ShardState before = state("orders", 0);
        assertThat(before.replicas()).hasSize(3);
        List<String> expected = new ArrayList<>();
        try (KafkaProducer<String, String> producer = producer()) {
            expected.addAll(produce(producer, "orders", 0, 2000));
            // every replica holds every acknowledged record
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                for (Broker b : brokers) {
                    assertThat(b.logs().catalog().shard(new TopicPartition("orders", 0)).logEnd()).isEqualTo(2000);
                }
            });
            int oldLeader = before.leader();
            brokers[oldLeader].close();
            brokers[oldLeader] = null;
            // the stopping leader hands over, may follow for the moment it takes to stop, and then leaves the ISR
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                ShardState s = state("orders", 0);
                return s.leader() >= 0 && s.leader() != oldLeader && !s.isr().contains(oldLeader);
            });
            ShardState after = state("orders", 0);
            assertThat(after.leaderEpoch()).isGreaterThan(before.leaderEpoch());
            expected.addAll(produce(producer, "orders", 2000, 2000));
        }
        List<String> got = consumeAll("orders", expected.size());
        assertThat(got).as("every acknowledged record exactly once, in order").containsExactlyElementsOf(expected);
    }

    /** A follower hands each batch of its leader's answers to its log in a pooled buffer: every one is freed once written. */
    @Test
    void everyBufferTheReplicasHeldIsFreed() throws Exception {
        int reportsBefore = io.capstan.broker.CountingLeakDetector.reports().size();
        io.netty.util.ResourceLeakDetector.Level level = io.capstan.broker.CountingLeakDetector.watchEveryBuffer();
        try {
            startCluster();
            createTopic("freed", 1, Map.of("min.insync.replicas", "2"));
            List<String> expected = new ArrayList<>();
            try (KafkaProducer<String, String> producer = producer()) {
                expected.addAll(produce(producer, "freed", 0, 2000));
            }
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                for (Broker b : brokers) {
                    assertThat(b.logs().catalog().shard(new TopicPartition("freed", 0)).logEnd()).isEqualTo(2000);
                }
            });
            assertThat(consumeAll("freed", expected.size())).containsExactlyElementsOf(expected);
            stop();
        } finally {
            io.capstan.broker.CountingLeakDetector.stopWatchingEveryBuffer(level);
        }
        io.capstan.broker.CountingLeakDetector.assertNothingLeakedSince(reportsBefore);
    }

    /** The observed load the rebalance planner evens out (decision 0030): client bytes, on the leader only. */
    @Test
    void eachShardsClientBytesAreCountedOnItsLeaderAndNotOnItsFollowers() throws Exception {
        startCluster();
        createTopic("traffic", 1, Map.of());
        int leader = state("traffic", 0).leader();
        TopicPartition tp = new TopicPartition("traffic", 0);
        try (KafkaProducer<String, String> producer = producer()) {
            produce(producer, "traffic", 0, 1000);
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (Broker b : brokers) {
                assertThat(b.logs().catalog().shard(tp).logEnd()).isEqualTo(1000);
            }
        });
        long stored = brokers[leader].logs().catalog().shard(tp).sizeBytes();
        assertThat(consumeAll("traffic", 1000)).hasSize(1000);
        for (int id = 0; id < brokers.length; id++) {
            io.capstan.broker.log.ShardTraffic traffic = brokers[id].logs().catalog().shard(tp).traffic();
            if (id == leader) {
                assertThat(traffic.bytesIn()).as("bytes produced, counted by the leader: every batch it stored").isEqualTo(stored);
                // the consumer read the log once; the two followers' copies (twice the log) are not consumer reads
                assertThat(traffic.bytesOut()).as("bytes consumed from the leader: the whole log, once").isBetween(stored, 2 * stored - 1);
                assertThat(metric(brokers[id], "capstan_shard_produced_bytes_total")).isEqualTo((double) stored);
                assertThat(metric(brokers[id], "capstan_shard_consumed_bytes_total")).isEqualTo((double) traffic.bytesOut());
            } else {
                assertThat(traffic.bytesIn()).as("broker %d copied the shard as a follower: not client traffic", id).isZero();
                assertThat(traffic.bytesOut()).as("broker %d served no consumer", id).isZero();
                assertThat(metric(brokers[id], "capstan_shard_produced_bytes_total")).isZero();
            }
        }
    }

    @Test
    void everyReplicaCompactsToTheSameRecordsAndAFollowerCatchesUpAcrossTheGaps() throws Exception {
        startCluster();
        createTopic("table", 1, Map.of("cleanup.policy", "compact", "min.cleanable.dirty.ratio", "0.01", "min.insync.replicas", "2"));
        TopicPartition tp = new TopicPartition("table", 0);
        int leader = state("table", 0).leader();
        int away = (leader + 1) % 3;
        brokers[away].close();
        brokers[away] = null;
        Map<String, Long> latest = new HashMap<>();
        long marker;
        try (KafkaProducer<String, String> producer = producer()) {
            for (int round = 0; round < 10; round++) {
                for (int k = 0; k < 50; k++) {
                    latest.put("k" + k, producer.send(new ProducerRecord<>("table", "k" + k, "v" + k + "-" + round)).get().offset());
                }
            }
            marker = producer.send(new ProducerRecord<>("table", "marker", "m")).get().offset();
        }
        // the two live replicas compact on their own, down to one record per key below the newest batch
        await("the live replicas compacted").atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            for (Broker b : brokers) {
                if (b != null) {
                    assertThat(records(b, tp)).hasSize(51);
                }
            }
        });
        // the replica that was away copies the compacted log, skipping the leader's gaps, then compacts its own
        start(away);
        await("every replica holds the same compacted records").atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            List<String> first = records(brokers[0], tp);
            assertThat(first).hasSize(51);
            assertThat(records(brokers[1], tp)).isEqualTo(first);
            assertThat(records(brokers[2], tp)).isEqualTo(first);
        });
        for (String r : records(brokers[away], tp)) {
            String[] parts = r.split(":");
            if (!parts[1].equals("marker")) {
                assertThat(Long.parseLong(parts[0])).as("offset of %s", parts[1]).isEqualTo(latest.get(parts[1]));
                assertThat(parts[2]).isEqualTo("v" + parts[1].substring(1) + "-9");
            }
        }
        assertThat(records(brokers[away], tp).get(50)).isEqualTo(marker + ":marker:m");
        assertThat(brokers[(leader + 2) % 3].logs().cleanerStats().bytesRemoved()).as("the follower that stayed compacted its own copy")
                .isPositive();
    }

    /** A replica's records as offset:key:value, read from its own log up to its log end. */
    private static List<String> records(Broker broker, TopicPartition tp) {
        Shard shard = broker.logs().catalog().shard(tp);
        List<byte[]> batches = new ArrayList<>();
        broker.logs().reader().readCopies(shard, shard.logStartOffset(), shard.logEnd(), Integer.MAX_VALUE, true, batches);
        List<String> out = new ArrayList<>();
        for (byte[] b : batches) {
            for (org.apache.kafka.common.record.internal.RecordBatch batch
                    : org.apache.kafka.common.record.internal.MemoryRecords.readableRecords(java.nio.ByteBuffer.wrap(b)).batches()) {
                for (org.apache.kafka.common.record.internal.Record r : batch) {
                    out.add(r.offset() + ":" + java.nio.charset.StandardCharsets.UTF_8.decode(r.key())
                            + ":" + java.nio.charset.StandardCharsets.UTF_8.decode(r.value()));
                }
            }
        }
        return out;
    }

    @Test
    void deletedRecordsLeaveEveryReplicaBeforeTheAnswer() throws Exception {
        startCluster();
        createTopic("purging", 1, Map.of("min.insync.replicas", "2"));
        try (KafkaProducer<String, String> producer = producer()) {
            produce(producer, "purging", 0, 300);
        }
        TopicPartition tp = new TopicPartition("purging", 0);
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        try (Admin admin = Admin.create(p)) {
            long low = admin.deleteRecords(Map.of(tp, org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(123)))
                    .lowWatermarks().get(tp).get().lowWatermark();
            assertThat(low).isEqualTo(123);
        }
        // answered only once every in-sync replica started there: no wait needed here
        for (Broker b : brokers) {
            assertThat(b.logs().catalog().shard(tp).logStartOffset()).as("%s's replica", b.bootstrap()).isEqualTo(123);
        }
        int oldLeader = state("purging", 0).leader();
        brokers[oldLeader].close();
        brokers[oldLeader] = null;
        await().atMost(Duration.ofSeconds(30)).until(() -> state("purging", 0).leader() >= 0 && state("purging", 0).leader() != oldLeader);
        List<String> got = consumeAll("purging", 177);
        assertThat(got).as("the new leader serves from the deleted offset on").hasSize(177).first().isEqualTo("v123");
    }

    @Test
    void newPartitionsAreReplicatedAndTakeAcksAllWrites() throws Exception {
        startCluster();
        createTopic("widening", 1, Map.of("min.insync.replicas", "2"));
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        try (Admin admin = Admin.create(p)) {
            admin.createPartitions(Map.of("widening", org.apache.kafka.clients.admin.NewPartitions.increaseTo(3,
                    List.of(List.of(2, 0, 1), List.of(1, 2, 0))))).all().get();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                var d = admin.describeTopics(List.of("widening")).allTopicNames().get().get("widening");
                return d.partitions().size() == 3 && d.partitions().stream().allMatch(i -> i.leader() != null && i.isr().size() == 3);
            });
        }
        assertThat(state("widening", 1).replicas()).as("the manual assignment").containsExactly(2, 0, 1);
        assertThat(state("widening", 2).replicas()).containsExactly(1, 2, 0);
        try (KafkaProducer<String, String> producer = producer()) {
            for (int partition = 0; partition < 3; partition++) {
                for (int i = 0; i < 50; i++) {
                    producer.send(new ProducerRecord<>("widening", partition, "k" + i, "v" + i)).get();
                }
            }
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (Broker b : brokers) {
                for (int partition = 0; partition < 3; partition++) {
                    assertThat(b.logs().catalog().shard(new TopicPartition("widening", partition)).logEnd())
                            .as("%s's replica of widening-%d", b.bootstrap(), partition).isEqualTo(50);
                }
            }
        });
    }

    @Test
    void aTopicConfigChangeReachesEveryReplicaAndEveryBrokerDescribesIt() throws Exception {
        startCluster();
        createTopic("tuned", 1, Map.of());
        org.apache.kafka.common.config.ConfigResource tuned = new org.apache.kafka.common.config.ConfigResource(
                org.apache.kafka.common.config.ConfigResource.Type.TOPIC, "tuned");
        Properties p = new Properties();
        p.put("bootstrap.servers", brokers[0].bootstrap());
        try (Admin admin = Admin.create(p)) {
            admin.incrementalAlterConfigs(Map.of(tuned, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                    new org.apache.kafka.clients.admin.ConfigEntry("max.message.bytes", "2048"),
                    org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)))).all().get();
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (Broker b : brokers) {
                assertThat(b.logs().catalog().topic("tuned").configs()).as("broker %s's copy", b.bootstrap())
                        .containsEntry("max.message.bytes", "2048");
            }
        });
        for (Broker b : brokers) {
            Properties one = new Properties();
            one.put("bootstrap.servers", b.bootstrap());
            try (Admin admin = Admin.create(one)) {
                // the admin client sends DescribeConfigs for a topic to any broker: each must answer from the cluster
                assertThat(admin.describeConfigs(List.of(tuned)).all().get().get(tuned).get("max.message.bytes").value()).isEqualTo("2048");
            }
        }
        try (KafkaProducer<String, String> producer = producer()) {
            ExecutionException tooLarge = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> producer.send(new ProducerRecord<>("tuned", "k", "x".repeat(4_000))).get());
            assertThat(tooLarge.getCause()).isInstanceOf(org.apache.kafka.common.errors.RecordTooLargeException.class);
        }
    }

    @Test
    void aStoppedFollowerLeavesTheIsrAndMinInsyncRefusesWritesUntilItReturns() throws Exception {
        startCluster();
        createTopic("strict", 1, Map.of("min.insync.replicas", "3"));
        ShardState initial = state("strict", 0);
        int follower = initial.replicas().stream().filter(r -> r != initial.leader()).findFirst().orElseThrow();
        Broker leading = brokers[initial.leader()];
        await().atMost(Duration.ofSeconds(30)).until(() -> metric(leading, "capstan_under_replicated_shards") == 0);
        assertThat(metric(leading, "capstan_under_min_isr_shards")).isZero();
        assertThat(metric(leading, "capstan_leader_shards")).isPositive();
        // every broker renews its lease by compare-and-set on the (local, here) metadata store
        await().atMost(Duration.ofSeconds(30)).until(() -> requestsTimed(leading, "compare_and_set", "ok") > 0);
        assertThat(metric(brokers[follower], "capstan_replica_shards")).isPositive();
        double shrinksBefore = metric(leading, "capstan_isr_shrinks_total");
        double expandsBefore = metric(leading, "capstan_isr_expands_total");
        try (KafkaProducer<String, String> producer = producer()) {
            produce(producer, "strict", 0, 100);
            brokers[follower].close();
            brokers[follower] = null;
            await().atMost(Duration.ofSeconds(30)).until(() -> !state("strict", 0).isr().contains(follower));
            assertThat(state("strict", 0).leader()).isEqualTo(initial.leader());
            // what an operator's alert sees at the leader: a shard short of followers, and one refusing acks=all
            await().atMost(Duration.ofSeconds(30)).until(() -> metric(leading, "capstan_under_replicated_shards") >= 1
                    && metric(leading, "capstan_under_min_isr_shards") >= 1);
            assertThat(metric(leading, "capstan_isr_shrinks_total")).isGreaterThan(shrinksBefore);
            assertThat(metric(leading, "capstan_offline_shards")).as("every shard still has a live leader").isZero();
            // the stopped follower has not caught up since it stopped (or since the leader's epoch began): the figure grows
            await().atMost(Duration.ofSeconds(30)).until(() -> metric(leading, "capstan_follower_lag_seconds_max") >= 2.0);
            // the store shows the smaller ISR first; the leader refuses up front once its own view does
            Broker leader = brokers[initial.leader()];
            await().atMost(Duration.ofSeconds(30)).until(() -> leader.replicas().canAppend(
                    leader.logs().catalog().shard(new TopicPartition("strict", 0)), (short) -1, 3) == Errors.NOT_ENOUGH_REPLICAS);
        }
        Properties noRetries = new Properties();
        noRetries.put("bootstrap.servers", bootstrap());
        noRetries.put("acks", "all");
        noRetries.put("enable.idempotence", "false");
        noRetries.put("retries", "0");
        try (KafkaProducer<String, String> once = new KafkaProducer<>(noRetries, new StringSerializer(), new StringSerializer())) {
            ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> once.send(new ProducerRecord<>("strict", "k", "refused")).get());
            assertThat(refused.getCause()).isInstanceOf(NotEnoughReplicasException.class);
        }
        start(follower);
        await().atMost(Duration.ofSeconds(30)).until(() -> state("strict", 0).isr().contains(follower));
        await().atMost(Duration.ofSeconds(30)).until(() -> metric(leading, "capstan_under_replicated_shards") == 0
                && metric(leading, "capstan_under_min_isr_shards") == 0);
        assertThat(metric(leading, "capstan_isr_expands_total")).isGreaterThan(expandsBefore);
        // back in sync: it has had everything since (the follower fetches at least every replica.fetch.wait.max.ms)
        await().atMost(Duration.ofSeconds(30)).until(() -> metric(leading, "capstan_follower_lag_seconds_max") < 1.0
                && metric(leading, "capstan_follower_lag_records_max") == 0);
        try (KafkaProducer<String, String> producer = producer()) {
            produce(producer, "strict", 100, 100);
        }
        Shard back = brokers[follower].logs().catalog().shard(new TopicPartition("strict", 0));
        await().atMost(Duration.ofSeconds(30)).until(() -> back.logEnd() >= 200);
    }

    @Test
    void restartSafetyAnswersWithReasonsAndControlledShutdownHandsLeadershipOver() throws Exception {
        startCluster();
        createTopic("relaxed", 1, Map.of("min.insync.replicas", "2"));
        assertThat(restartSafety(brokers[0]).statusCode()).isEqualTo(200);
        createTopic("tight", 1, Map.of("min.insync.replicas", "3"));
        java.net.http.HttpResponse<String> unsafe = restartSafety(brokers[0]);
        assertThat(unsafe.statusCode()).isEqualTo(409);
        assertThat(unsafe.body()).contains("\"safe\":false").contains("tight-0 would drop to 2 in-sync replica(s), below min.insync.replicas=3");

        ShardState before = state("relaxed", 0);
        Broker leader = brokers[before.leader()];
        java.net.http.HttpResponse<String> replicas = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + leader.adminPort() + "/replicas")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        io.capstan.cluster.metadata.ReplicaProgress[] progress = MetadataCodec.decode(replicas.body().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                io.capstan.cluster.metadata.ReplicaProgress[].class);
        assertThat(progress).anySatisfy(p -> {
            assertThat(p.topic()).isEqualTo("relaxed");
            assertThat(p.replicaEnds().keySet()).containsExactlyInAnyOrderElementsOf(
                    before.replicas().stream().filter(r -> r != before.leader()).toList());
        });
        assertThat(leader.replicas().moveLeadershipAway()).isGreaterThanOrEqualTo(1);
        ShardState after = state("relaxed", 0);
        assertThat(after.leader()).isNotEqualTo(before.leader()).isIn(before.isr());
        assertThat(after.leaderEpoch()).isEqualTo(before.leaderEpoch() + 1);
        assertThat(after.isr()).doesNotContain(before.leader());
        try (KafkaProducer<String, String> producer = producer()) {
            produce(producer, "relaxed", 0, 50);
        }
        assertThat(consumeAll("relaxed", 50)).hasSize(50);

        // the old leader follows, rejoins the ISR, and ElectLeaders hands the shard back to it (its preferred replica)
        TopicPartition tp = new TopicPartition("relaxed", 0);
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        try (Admin admin = Admin.create(p)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> state("relaxed", 0).isr().contains(before.replicas().get(0)));
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                admin.electLeaders(org.apache.kafka.common.ElectionType.PREFERRED, java.util.Set.of(tp)).all().get();
                return state("relaxed", 0).leader() == before.replicas().get(0);
            });
            ExecutionException unclean = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> admin.electLeaders(org.apache.kafka.common.ElectionType.UNCLEAN, java.util.Set.of(tp)).all().get());
            assertThat(unclean.getCause()).hasMessageContaining("unclean leader election is not offered");
        }
        try (KafkaProducer<String, String> producer = producer()) {
            produce(producer, "relaxed", 50, 50);
        }
        assertThat(consumeAll("relaxed", 100)).hasSize(100);
    }

    private static java.net.http.HttpResponse<String> restartSafety(Broker broker) throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + broker.adminPort() + "/restart-safety")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void idempotentProducerSurvivesRepeatedLeaderMoves() throws Exception {
        startCluster();
        createTopic("moving", 1, Map.of("min.insync.replicas", "2"));
        java.util.concurrent.atomic.AtomicReference<Exception> failure = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicLong acked = new java.util.concurrent.atomic.AtomicLong();
        long sent = 0;
        try (KafkaProducer<String, String> producer = producer()) {
            long end = System.currentTimeMillis() + 15_000;
            long nextMove = System.currentTimeMillis() + 300;
            int moves = 0;
            while (System.currentTimeMillis() < end && failure.get() == null) {
                producer.send(new ProducerRecord<>("moving", "k", "v" + sent++), (md, e) -> {
                    if (e != null) {
                        failure.compareAndSet(null, e);
                    } else {
                        acked.incrementAndGet();
                    }
                });
                if (sent % 50 == 0) {
                    Thread.sleep(5); // load shaping
                }
                if (System.currentTimeMillis() > nextMove) {
                    ShardState s = state("moving", 0);
                    if (s.leader() >= 0 && s.isr().size() == 3) {
                        brokers[s.leader()].replicas().moveLeadershipAway();
                        moves++;
                    }
                    nextMove = System.currentTimeMillis() + 300;
                }
            }
            producer.flush();
            System.out.println("moves " + moves + " sent " + sent + " acked " + acked.get());
        }
        assertThat(failure.get()).isNull();
        assertThat(acked.get()).isEqualTo(sent);
        assertThat(consumeAll("moving", (int) sent)).hasSize((int) sent);
    }

    /**
     * Found by the scale-out-and-in test on pods (acknowledged records overwritten): when the last shard of a topic left
     * a broker its local copy was dropped, and when a shard came back the new copy was never switched to replicated
     * mode, so as leader its high watermark followed its own log end and acks=all was answered before any follower had
     * the records. Here a single-replica shard hops from broker to broker under acks=all load, every hop dropping and
     * re-creating a local copy; every acknowledged record must be in the final log at its acknowledged offset.
     */
    @Test
    void aShardHoppingBetweenBrokersUnderLoadKeepsEveryAcknowledgedRecord() throws Exception {
        startCluster();
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        TopicPartition tp = new TopicPartition("hopping", 0);
        Map<String, Long> offsets = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.concurrent.atomic.AtomicReference<Exception> failure = new java.util.concurrent.atomic.AtomicReference<>();
        int moves = 0;
        long sent = 0;
        try (Admin admin = Admin.create(p); KafkaProducer<String, String> producer = producer()) {
            admin.createTopics(List.of(new NewTopic("hopping", 1, (short) 1).configs(Map.of("min.insync.replicas", "1")))).all().get();
            await().atMost(Duration.ofSeconds(30)).until(() -> state("hopping", 0).leader() >= 0);
            long end = System.currentTimeMillis() + 12_000;
            while (System.currentTimeMillis() < end && failure.get() == null) {
                for (int i = 0; i < 200; i++) {
                    String value = "v" + sent++;
                    producer.send(new ProducerRecord<>("hopping", 0, "k", value), (md, e) -> {
                        if (e != null) {
                            failure.compareAndSet(null, e);
                        } else {
                            offsets.put(value, md.offset());
                        }
                    });
                }
                ShardState s = state("hopping", 0);
                if (!s.reassigning() && s.leader() >= 0) {
                    int next = (s.replicas().get(0) + 1) % 3;
                    admin.alterPartitionReassignments(Map.of(tp, java.util.Optional.of(
                            new org.apache.kafka.clients.admin.NewPartitionReassignment(List.of(next))))).all().get();
                    moves++;
                }
                Thread.sleep(20); // load shaping: a few thousand records a second
            }
            producer.flush();
        }
        assertThat(failure.get()).as("errors the producer saw").isNull();
        assertThat(moves).as("moves made").isGreaterThanOrEqualTo(10);
        assertThat(offsets).hasSize((int) sent);
        List<String> log = consumeAll("hopping", (int) sent);
        assertThat(log).as("the log holds exactly what was acknowledged").hasSize((int) sent);
        for (Map.Entry<String, Long> ack : offsets.entrySet()) {
            assertThat(log.get(ack.getValue().intValue())).as("acknowledged %s at offset %d", ack.getKey(), ack.getValue())
                    .isEqualTo(ack.getKey());
        }
    }

    /**
     * Found by the Kubernetes scale-out-and-in scenario: a shard moved off a broker (which keeps other shards of the
     * topic) and later moved back must copy the leader's log from its start, not resume at the offset where it left.
     */
    @Test
    void aShardMovedAwayAndBackCopiesTheWholeLogAgain() throws Exception {
        startCluster();
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        TopicPartition p0 = new TopicPartition("roundtrip", 0);
        TopicPartition p1 = new TopicPartition("roundtrip", 1);
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(List.of(new NewTopic("roundtrip", 2, (short) 2).configs(Map.of("min.insync.replicas", "1")))).all().get();
            admin.alterPartitionReassignments(Map.of(
                    p0, java.util.Optional.of(new org.apache.kafka.clients.admin.NewPartitionReassignment(List.of(0, 1))),
                    p1, java.util.Optional.of(new org.apache.kafka.clients.admin.NewPartitionReassignment(List.of(0, 2))))).all().get();
            await().atMost(Duration.ofSeconds(60)).until(() -> !state("roundtrip", 0).reassigning() && !state("roundtrip", 1).reassigning()
                    && state("roundtrip", 0).isr().size() == 2 && state("roundtrip", 1).isr().size() == 2);
        }
        List<String> values = new ArrayList<>();
        try (KafkaProducer<String, String> producer = producer()) {
            for (int i = 0; i < 500; i++) {
                values.add("v" + i);
                producer.send(new ProducerRecord<>("roundtrip", 0, "k" + i, "v" + i));
            }
            producer.flush();
        }
        try (Admin admin = Admin.create(p)) {
            // broker 0 leaves shard 0 (keeping shard 1, so the topic stays on it), then gets shard 0 back alone
            admin.alterPartitionReassignments(Map.of(p0, java.util.Optional.of(
                    new org.apache.kafka.clients.admin.NewPartitionReassignment(List.of(1, 2))))).all().get();
            await().atMost(Duration.ofSeconds(60)).until(() -> !state("roundtrip", 0).reassigning()
                    && brokers[0].logs().catalog().shard(p0).logEnd() == brokers[0].logs().catalog().shard(p0).logStartOffset());
            admin.alterPartitionReassignments(Map.of(p0, java.util.Optional.of(
                    new org.apache.kafka.clients.admin.NewPartitionReassignment(List.of(0, 1))))).all().get();
            await().atMost(Duration.ofSeconds(60)).until(() -> !state("roundtrip", 0).reassigning());
            admin.alterPartitionReassignments(Map.of(p0, java.util.Optional.of(
                    new org.apache.kafka.clients.admin.NewPartitionReassignment(List.of(0))))).all().get();
            await().atMost(Duration.ofSeconds(60)).until(() -> !state("roundtrip", 0).reassigning());
        }
        assertThat(state("roundtrip", 0).replicas()).containsExactly(0);
        assertThat(brokers[0].logs().catalog().shard(p1)).as("broker 0 kept shard 1 throughout").isNotNull();
        Shard back = brokers[0].logs().catalog().shard(p0);
        assertThat(back.logStartOffset()).as("the returning replica starts where the leader's log starts").isZero();
        assertThat(back.logEnd()).isEqualTo(500);
        assertThat(consumeAll("roundtrip", 500)).containsExactlyElementsOf(values);
    }

    @Test
    void reassignmentMovesAShardToANewReplicaThatStartsAtTheLeadersLogStart() throws Exception {
        startCluster();
        int outsider = 2;
        brokers[outsider].close();
        brokers[outsider] = null;
        await().atMost(Duration.ofSeconds(30)).until(() -> brokers[0].replicas().view().aliveBrokerIds().size() == 2);
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        TopicPartition tp = new TopicPartition("moved", 0);
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(List.of(new NewTopic("moved", 1, (short) 2).configs(Map.of("retention.bytes", "20000",
                    "min.insync.replicas", "1")))).all().get();
            await().atMost(Duration.ofSeconds(30)).until(() -> state("moved", 0).isr().size() == 2);
        }
        List<String> values;
        try (KafkaProducer<String, String> producer = producer()) {
            values = produce(producer, "moved", 0, 3000);
        }
        // retention drops the head on both replicas, so a new replica cannot copy from offset 0
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            for (Broker b : brokers) {
                if (b != null) {
                    b.logs().runRetention(System.currentTimeMillis());
                }
            }
            return brokers[state("moved", 0).leader()].logs().catalog().shard(tp).logStartOffset() > 0;
        });
        ShardState before = state("moved", 0);
        assertThat(before.replicas()).doesNotContain(outsider);
        int leaving = before.replicas().get(0);
        int staying = before.replicas().get(1);
        try (Admin admin = Admin.create(p)) {
            admin.alterPartitionReassignments(Map.of(tp, java.util.Optional.of(
                    new org.apache.kafka.clients.admin.NewPartitionReassignment(List.of(outsider, staying))))).all().get();
            var running = admin.listPartitionReassignments().reassignments().get();
            assertThat(running).as("the new replica is down, so the move waits for it").containsKey(tp);
            assertThat(running.get(tp).addingReplicas()).containsExactly(outsider);
            assertThat(running.get(tp).removingReplicas()).containsExactly(leaving);

            start(outsider);
            await().atMost(Duration.ofSeconds(60)).until(() -> !state("moved", 0).reassigning());
            assertThat(admin.listPartitionReassignments().reassignments().get()).isEmpty();
            ExecutionException none = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () ->
                    admin.alterPartitionReassignments(Map.of(tp, java.util.Optional.empty())).all().get());
            assertThat(none.getCause()).isInstanceOf(org.apache.kafka.common.errors.NoReassignmentInProgressException.class);
            ExecutionException bad = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () ->
                    admin.alterPartitionReassignments(Map.of(tp, java.util.Optional.of(
                            new org.apache.kafka.clients.admin.NewPartitionReassignment(List.of(7, 7))))).all().get());
            assertThat(bad.getCause()).hasMessageContaining("repeats a broker");
        }
        ShardState after = state("moved", 0);
        assertThat(after.replicas()).containsExactly(outsider, staying);
        assertThat(after.isr()).containsExactlyInAnyOrder(outsider, staying);
        assertThat(after.leader()).isIn(outsider, staying);
        Shard newCopy = brokers[outsider].logs().catalog().shard(tp);
        assertThat(newCopy.logStartOffset()).as("started at the leader's log start").isPositive();
        assertThat(newCopy.logEnd()).isEqualTo(3000);
        await().atMost(Duration.ofSeconds(30)).until(() -> brokers[leaving].logs().catalog().topic("moved") == null);

        try (KafkaProducer<String, String> producer = producer()) {
            values.addAll(produce(producer, "moved", 3000, 100));
        }
        long start = brokers[state("moved", 0).leader()].logs().catalog().shard(tp).logStartOffset();
        List<String> readable = consumeAll("moved", (int) (3100 - start));
        assertThat(readable).as("everything from the log start on, in order").containsExactlyElementsOf(values.subList((int) start, 3100));
    }

    /**
     * KIP-73 as kafka-reassign-partitions --throttle uses it: a new replica's copy runs at the rate set on the follower
     * side, then (moved away and back) on the leader side, while the in-sync follower, and so acks=all producers, are
     * not held back.
     */
    @Test
    void aThrottledReassignmentCopiesAtTheRateSetOnEitherSideAndInSyncReplicasAreNotHeldBack() throws Exception {
        startCluster();
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        TopicPartition tp = new TopicPartition("throttled", 0);
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(List.of(new NewTopic("throttled", 1, (short) 2).configs(Map.of(
                    "leader.replication.throttled.replicas", "*", "follower.replication.throttled.replicas", "*",
                    "min.insync.replicas", "2")))).all().get();
            await().atMost(Duration.ofSeconds(30)).until(() -> state("throttled", 0).isr().size() == 2);
            List<Integer> original = state("throttled", 0).replicas();
            int outsider = java.util.stream.IntStream.range(0, 3).filter(b -> !original.contains(b)).findFirst().orElseThrow();
            String value = "x".repeat(1_000);
            try (KafkaProducer<String, String> producer = producer()) {
                List<Future<RecordMetadata>> sent = new ArrayList<>();
                for (int i = 0; i < 1_200; i++) {
                    sent.add(producer.send(new ProducerRecord<>("throttled", "k" + i, value)));
                }
                for (Future<RecordMetadata> f : sent) {
                    f.get();
                }
            }
            long bytes = brokers[state("throttled", 0).leader()].logs().catalog().shard(tp).sizeBytes();
            long rate = bytes / 12; // a copy of about 12 s at the rate; unthrottled it takes well under one
            long expectedMs = bytes * 1000 / rate;

            setClusterDefault(admin, "follower.replication.throttled.rate", rate);
            long followerSideMs = timeToAdd(admin, tp, outsider);
            assertThat(followerSideMs).as("the copy ran at follower.replication.throttled.rate (%d B/s for %d bytes)", rate, bytes)
                    .isGreaterThan(expectedMs / 2);

            setClusterDefault(admin, "follower.replication.throttled.rate", Long.MAX_VALUE);
            admin.alterPartitionReassignments(Map.of(tp, java.util.Optional.of(
                    new org.apache.kafka.clients.admin.NewPartitionReassignment(original)))).all().get();
            await().atMost(Duration.ofSeconds(60)).until(() -> !state("throttled", 0).reassigning()
                    && brokers[outsider].logs().catalog().topic("throttled") == null);
            setClusterDefault(admin, "leader.replication.throttled.rate", rate);
            long[] ackedWhileCopying = new long[1];
            long leaderSideMs = timeToAdd(admin, tp, outsider, () -> {
                // while the leader holds the new replica back, the in-sync follower keeps up: acks=all still answers
                try (KafkaProducer<String, String> producer = producer()) {
                    producer.partitionsFor("throttled"); // connected and knowing the leader before the clock starts
                    long began = System.nanoTime();
                    List<Future<RecordMetadata>> sent = new ArrayList<>();
                    for (int i = 0; i < 600; i++) {
                        sent.add(producer.send(new ProducerRecord<>("throttled", "during" + i, value)));
                    }
                    for (Future<RecordMetadata> f : sent) {
                        f.get();
                    }
                    ackedWhileCopying[0] = (System.nanoTime() - began) / 1_000_000;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            assertThat(leaderSideMs).as("the copy ran at leader.replication.throttled.rate (%d B/s for %d bytes)", rate, bytes)
                    .isGreaterThan(expectedMs / 2);
            System.out.printf("throttled copies of %d bytes at %d B/s: follower side %d ms, leader side %d ms; 600 acks=all records"
                    + " meanwhile %d ms%n", bytes, rate, followerSideMs, leaderSideMs, ackedWhileCopying[0]);
            // 600 KB through the throttle would take 6 s at its rate; the in-sync follower is not held back by it
            assertThat(ackedWhileCopying[0]).as("600 KB of acks=all records while the copy was throttled, ms").isLessThan(3_000);
            assertThat(state("throttled", 0).isr()).containsExactlyInAnyOrder(0, 1, 2);
        }
    }

    private static void setClusterDefault(Admin admin, String key, long value) throws Exception {
        org.apache.kafka.common.config.ConfigResource brokers = new org.apache.kafka.common.config.ConfigResource(
                org.apache.kafka.common.config.ConfigResource.Type.BROKER, "");
        admin.incrementalAlterConfigs(Map.of(brokers, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                new org.apache.kafka.clients.admin.ConfigEntry(key, String.valueOf(value)),
                org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)))).all().get();
    }

    private long timeToAdd(Admin admin, TopicPartition tp, int broker) throws Exception {
        return timeToAdd(admin, tp, broker, () -> { });
    }

    /** Adds {@code broker} to the shard's replicas, runs {@code meanwhile}, and returns the ms until the move completed. */
    private long timeToAdd(Admin admin, TopicPartition tp, int broker, Runnable meanwhile) throws Exception {
        List<Integer> replicas = new ArrayList<>(state(tp.topic(), tp.partition()).replicas());
        replicas.add(broker);
        long began = System.nanoTime();
        admin.alterPartitionReassignments(Map.of(tp, java.util.Optional.of(
                new org.apache.kafka.clients.admin.NewPartitionReassignment(replicas)))).all().get();
        meanwhile.run();
        await().atMost(Duration.ofSeconds(120)).until(() -> !state(tp.topic(), tp.partition()).reassigning()
                && state(tp.topic(), tp.partition()).isr().contains(broker));
        return (System.nanoTime() - began) / 1_000_000;
    }

    @Test
    void committedOffsetsAndGroupCoordinationSurviveTheCoordinatorsFailure() throws Exception {
        startCluster();
        createTopic("events", 1, Map.of());
        List<String> first;
        try (KafkaProducer<String, String> producer = producer()) {
            first = produce(producer, "events", 0, 100);
        }
        assertThat(consumeInGroup("g", 100)).containsExactlyElementsOf(first);
        int coordinator = state(io.capstan.broker.group.OffsetStore.TOPIC, 0).leader();
        assertThat(state(io.capstan.broker.group.OffsetStore.TOPIC, 0).replicas()).hasSize(3);
        brokers[coordinator].close();
        brokers[coordinator] = null;
        List<String> second;
        try (KafkaProducer<String, String> producer = producer()) {
            second = produce(producer, "events", 100, 50);
        }
        assertThat(consumeInGroup("g", 50)).as("the group resumes at its committed offset on the new coordinator")
                .containsExactlyElementsOf(second);
        assertThat(state(io.capstan.broker.group.OffsetStore.TOPIC, 0).leader()).isNotEqualTo(coordinator);
    }

    /** Subscribes in the group, reads {@code expected} records (then checks nothing more comes), commits, leaves. */
    private List<String> consumeInGroup(String group, int expected) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        p.put("group.id", group);
        p.put("enable.auto.commit", "false");
        p.put("auto.offset.reset", "earliest");
        p.put("metadata.max.age.ms", "1000");
        List<String> got = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of("events"));
            long deadline = System.currentTimeMillis() + 60_000;
            while (got.size() < expected && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> got.add(r.value()));
            }
            consumer.poll(Duration.ofMillis(500)).forEach(r -> got.add(r.value()));
            consumer.commitSync(Duration.ofSeconds(30));
        }
        return got;
    }
}
