package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.version.ClusterVersion;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Apache Kafka 4.4's own admin tools, unchanged, against a 3-broker Capstan cluster (broker processes and the failover
 * controller): {@code kafka-topics} creates, grows and describes a topic, {@code kafka-delete-records} moves a
 * partition's log start, {@code kafka-consumer-groups --delete-offsets} removes a committed offset, {@code kafka-log-dirs} lists each
 * broker's replicas, {@code kafka-configs} changes and describes its configs, describes a broker's settings, refuses
 * changing a static one with Capstan's message, and sets dynamic ones (a cluster default and one broker's own), which
 * every broker enforces; {@code kafka-topics} creates a compacted topic and one with its replicas named by hand (and
 * refuses a broker that does not exist); {@code kafka-reassign-partitions --throttle} moves a partition throttled and
 * {@code --verify} removes every throttle. Each step is checked in the tool's output and through the Java client.
 */
class KafkaToolsTest {
    private static final Path LIB = Path.of("..", "bench", "kafka-dist", "target", "lib");

    @TempDir
    Path dir;

    @Test
    void kafkaTopicsAndKafkaConfigsManageACapstanCluster() throws Exception {
        assertThat(LIB.resolve("kafka-tools-4.4.0.jar")).as("Apache Kafka's tools, assembled by bench/kafka-dist").exists();
        Path metadata = dir.resolve("metadata");
        BrokerProcess[] brokers = new BrokerProcess[3];
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(metadata, 100);
             ControllerProcess controller = new ControllerProcess(metadata, Path.of("target", "kafka-tools-logs", "controller.log")).start()) {
            for (int id = 0; id < brokers.length; id++) {
                brokers[id] = new BrokerProcess(dir.resolve("broker-" + id), Path.of("target", "kafka-tools-logs", "broker-" + id),
                        Map.of("node.id", String.valueOf(id), "metadata.dir", metadata.toString(), "disk.min.free.bytes", "0"));
                brokers[id].start();
            }
            String bootstrap = BrokerProcess.bootstrap(brokers);

            assertThat(tool("org.apache.kafka.tools.TopicCommand", "--bootstrap-server", bootstrap, "--create", "--topic", "tooled",
                    "--partitions", "2", "--replication-factor", "3", "--config", "retention.ms=86400000")).contains("Created topic tooled.");
            String grown = tool("org.apache.kafka.tools.TopicCommand", "--bootstrap-server", bootstrap, "--alter", "--topic", "tooled",
                    "--partitions", "5");
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                // the broker that answered the alter has applied it; the one asked next may be a moment behind (as in Kafka)
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                        admin.describeTopics(List.of("tooled")).allTopicNames().get().get("tooled").partitions()).as(grown).hasSize(5));
            }
            StoreShards.awaitAllInSync(store, "tooled", 5, brokers.length);
            String described = tool("org.apache.kafka.tools.TopicCommand", "--bootstrap-server", bootstrap, "--describe", "--topic", "tooled");
            assertThat(described).contains("PartitionCount: 5").contains("ReplicationFactor: 3").contains("retention.ms=86400000")
                    .contains("Partition: 4");
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap, "acks", "all"),
                    new StringSerializer(), new StringSerializer())) {
                assertThat(producer.send(new ProducerRecord<>("tooled", 4, "k", "on a new partition")).get().offset()).isZero();
            }
            java.nio.file.Path offsets = java.nio.file.Files.writeString(dir.resolve("delete.json"),
                    "{\"partitions\":[{\"topic\":\"tooled\",\"partition\":4,\"offset\":1}],\"version\":1}");
            assertThat(tool("org.apache.kafka.tools.DeleteRecordsCommand", "--bootstrap-server", bootstrap, "--offset-json-file", offsets.toString()))
                    .contains("partition: tooled-4").contains("low_watermark: 1");
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                var tp = new org.apache.kafka.common.TopicPartition("tooled", 4);
                assertThat(admin.listOffsets(Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.earliest())).partitionResult(tp).get().offset())
                        .isEqualTo(1);
            }
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.alterConsumerGroupOffsets("tools-group", Map.of(new org.apache.kafka.common.TopicPartition("tooled", 0),
                        new org.apache.kafka.clients.consumer.OffsetAndMetadata(0), new org.apache.kafka.common.TopicPartition("tooled", 1),
                        new org.apache.kafka.clients.consumer.OffsetAndMetadata(0))).all().get();
            }
            assertThat(tool("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", "--bootstrap-server", bootstrap, "--delete-offsets",
                    "--group", "tools-group", "--topic", "tooled:0")).contains("Successful");
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                assertThat(admin.listConsumerGroupOffsets("tools-group").partitionsToOffsetAndMetadata().get())
                        .containsOnlyKeys(new org.apache.kafka.common.TopicPartition("tooled", 1));
            }
            String logDirs = tool("org.apache.kafka.tools.LogDirsCommand", "--bootstrap-server", bootstrap, "--describe", "--topic-list", "tooled");
            assertThat(logDirs).contains("\"partition\":\"tooled-4\"").contains("\"broker\":0").contains("\"broker\":2");
            Commands.Outcome shrink = Commands.outcome(command("org.apache.kafka.tools.TopicCommand", "--bootstrap-server", bootstrap,
                    "--alter", "--topic", "tooled", "--partitions", "3"));
            assertThat(shrink.exitCode()).as(shrink.output()).isNotZero();
            assertThat(shrink.output()).contains("Topic currently has 5 partitions, which is higher than the requested 3.");

            assertThat(tool("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", bootstrap, "--alter", "--entity-type", "topics",
                    "--entity-name", "tooled", "--add-config", "max.message.bytes=65536,retention.bytes=1073741824"))
                    .contains("Completed updating config for topic tooled.");
            assertThat(tool("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", bootstrap, "--alter", "--entity-type", "topics",
                    "--entity-name", "tooled", "--delete-config", "retention.ms")).contains("Completed updating config for topic tooled.");
            String configs = tool("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", bootstrap, "--describe", "--entity-type", "topics",
                    "--entity-name", "tooled");
            assertThat(configs).contains("max.message.bytes=65536").contains("retention.bytes=1073741824").doesNotContain("retention.ms=86400000");
            for (BrokerProcess b : brokers) {
                try (Admin one = Admin.create(Map.of("bootstrap.servers", b.bootstrap()))) {
                    var resource = new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.TOPIC, "tooled");
                    assertThat(one.describeConfigs(List.of(resource)).all().get().get(resource).get("max.message.bytes").value())
                            .as("broker at %s", b.bootstrap()).isEqualTo("65536");
                }
            }

            assertThat(tool("org.apache.kafka.tools.TopicCommand", "--bootstrap-server", bootstrap, "--create", "--topic", "table",
                    "--partitions", "1", "--replication-factor", "3", "--config", "cleanup.policy=compact")).contains("Created topic table.");
            assertThat(tool("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", bootstrap, "--describe", "--entity-type", "topics",
                    "--entity-name", "table")).contains("cleanup.policy=compact");
            String brokerConfigs = tool("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", bootstrap, "--describe", "--all",
                    "--entity-type", "brokers", "--entity-name", "1");
            assertThat(brokerConfigs).contains("node.id=1").contains("log.cleaner.enable=true").contains("log.cleanup.policy=delete");

            Commands.Outcome brokerSetting = Commands.outcome(command("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", bootstrap,
                    "--alter", "--entity-type", "brokers", "--entity-name", "1", "--add-config", "log.retention.check.interval.ms=1000"));
            assertThat(brokerSetting.exitCode()).as(brokerSetting.output()).isNotZero();
            assertThat(brokerSetting.output()).contains("Cannot update these configs dynamically").contains("restart the broker");

            // dynamic broker configs: a cluster default set through one broker reaches every broker's enforcement and
            // description; a broker's own value beats it on that broker only
            assertThat(tool("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", bootstrap, "--alter", "--entity-type", "brokers",
                    "--entity-default", "--add-config", "message.max.bytes=3000")).contains("Completed updating default config for brokers in the cluster.");
            assertThat(tool("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", bootstrap, "--alter", "--entity-type", "brokers",
                    "--entity-name", "2", "--add-config", "message.max.bytes=20000")).contains("Completed updating config for broker 2.");
            assertThat(tool("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", bootstrap, "--describe", "--entity-type", "brokers",
                    "--entity-default")).contains("message.max.bytes=3000");
            assertThat(tool("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", bootstrap, "--describe", "--entity-type", "brokers",
                    "--entity-name", "2")).contains("message.max.bytes=20000").contains("DYNAMIC_BROKER_CONFIG:message.max.bytes=20000")
                    .contains("DYNAMIC_DEFAULT_BROKER_CONFIG:message.max.bytes=3000");
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("limited", 3, (short) 1))).all().get();
                Map<Integer, Integer> leaders = new java.util.HashMap<>();
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> {
                    admin.describeTopics(List.of("limited")).allTopicNames().get().get("limited").partitions()
                            .forEach(p -> leaders.put(p.partition(), p.leader().id()));
                    assertThat(leaders).hasSize(3);
                });
                assertThat(new java.util.HashSet<>(leaders.values())).as("one partition on each broker").hasSize(3);
                Properties p = new Properties();
                p.put("bootstrap.servers", bootstrap);
                p.put("acks", "all");
                p.put("retries", "0");
                try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
                    for (var leader : leaders.entrySet()) {
                        // each broker learns the default from its own watch: wait for it, then it must refuse what its limit refuses
                        int limit = leader.getValue() == 2 ? 20000 : 3000;
                        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                            ExecutionException e = assertThrows(ExecutionException.class, () ->
                                    producer.send(new ProducerRecord<>("limited", leader.getKey(), "k", "x".repeat(limit + 100))).get());
                            assertThat(e.getCause()).as("partition %d led by broker %d", leader.getKey(), leader.getValue())
                                    .isInstanceOf(RecordTooLargeException.class);
                        });
                        producer.send(new ProducerRecord<>("limited", leader.getKey(), "k", "x".repeat(limit - 200))).get();
                    }
                }
            }
            tool("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", bootstrap, "--alter", "--entity-type", "brokers",
                    "--entity-default", "--delete-config", "message.max.bytes");
            assertThat(tool("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", bootstrap, "--describe", "--entity-type", "brokers",
                    "--entity-default")).doesNotContain("message.max.bytes");

            placeReplicasByHand(bootstrap);
            reassignWithThrottle(bootstrap);
        } finally {
            BrokerProcess.stopAll(brokers);
        }
    }

    /**
     * kafka-topics --replica-assignment: each partition's replicas as given, led by the first; an assignment naming a
     * broker that does not exist is refused with Kafka's message and creates nothing.
     */
    private void placeReplicasByHand(String bootstrap) throws Exception {
        String topics = "org.apache.kafka.tools.TopicCommand";
        assertThat(tool(topics, "--bootstrap-server", bootstrap, "--create", "--topic", "placed", "--replica-assignment", "2:1,0:2,1:0"))
                .contains("Created topic placed.");
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            var partitions = await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> admin.describeTopics(List.of("placed"))
                    .allTopicNames().get().get("placed").partitions(), p -> p.size() == 3 && p.stream().allMatch(x -> x.leader() != null));
            assertThat(partitions.stream().map(p -> p.replicas().stream().map(org.apache.kafka.common.Node::id).toList()).toList())
                    .containsExactly(List.of(2, 1), List.of(0, 2), List.of(1, 0));
            assertThat(partitions.stream().map(p -> p.leader().id()).toList()).as("each partition led by its first replica").containsExactly(2, 0, 1);
        }
        Commands.Outcome unknown = Commands.outcome(command(topics, "--bootstrap-server", bootstrap, "--create", "--topic", "misplaced",
                "--replica-assignment", "0:7"));
        assertThat(unknown.exitCode()).as(unknown.output()).isNotZero();
        assertThat(unknown.output()).contains("The manual partition assignment includes broker 7, but no such broker is registered");
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            assertThat(admin.listTopics().names().get()).doesNotContain("misplaced");
        }
    }

    /**
     * kafka-reassign-partitions as operators run it: --execute --throttle sets the replication throttle (the rates on
     * the brokers, the throttled replicas on the topic), --verify reports progress and, once the move is done, removes
     * every throttle it may have set (including replica.alter.log.dirs.io.max.bytes.per.second, which Capstan accepts
     * and ignores); every record written before the move is read back, in order, from the new replicas.
     */
    private void reassignWithThrottle(String bootstrap) throws Exception {
        String reassign = "org.apache.kafka.tools.reassign.ReassignPartitionsCommand";
        List<Integer> before;
        List<String> values = new ArrayList<>();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("moved", 1, (short) 2))).all().get();
            before = await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> admin.describeTopics(List.of("moved")).allTopicNames()
                    .get().get("moved").partitions().get(0).replicas().stream().map(org.apache.kafka.common.Node::id).toList(), r -> r.size() == 2);
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap, "acks", "all"),
                    new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < 300; i++) {
                    values.add(i + "-" + "y".repeat(500));
                    producer.send(new ProducerRecord<>("moved", 0, "k" + i, values.get(i)));
                }
                producer.flush();
            }
        }
        int outsider = java.util.stream.IntStream.range(0, 3).filter(b -> !before.contains(b)).findFirst().orElseThrow();
        List<Integer> target = List.of(before.get(0), outsider);
        Path plan = Files.writeString(dir.resolve("reassign.json"), "{\"version\":1,\"partitions\":[{\"topic\":\"moved\",\"partition\":0,"
                + "\"replicas\":[" + target.get(0) + "," + target.get(1) + "]}]}");

        String executed = tool(reassign, "--bootstrap-server", bootstrap, "--reassignment-json-file", plan.toString(), "--execute",
                "--throttle", "50000000");
        assertThat(executed).contains("Warning: You must run --verify periodically").contains("Successfully started partition reassignment");
        assertThat(tool("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", bootstrap, "--describe", "--entity-type", "brokers",
                "--entity-name", String.valueOf(outsider))).contains("follower.replication.throttled.rate=50000000")
                .contains("leader.replication.throttled.rate=50000000");
        assertThat(tool("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", bootstrap, "--describe", "--entity-type", "topics",
                "--entity-name", "moved")).contains("follower.replication.throttled.replicas=0:" + outsider)
                .contains("leader.replication.throttled.replicas=");

        String verified = await().atMost(Duration.ofSeconds(60)).until(() -> tool(reassign, "--bootstrap-server", bootstrap,
                "--reassignment-json-file", plan.toString(), "--verify"), out -> out.contains("Reassignment of partition moved-0 is completed."));
        assertThat(verified).contains("Clearing broker-level throttles on brokers").contains("Clearing topic-level throttles on topic moved");
        for (int broker = 0; broker < 3; broker++) {
            assertThat(tool("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", bootstrap, "--describe", "--entity-type", "brokers",
                    "--entity-name", String.valueOf(broker))).as("broker %d after --verify", broker).doesNotContain("throttled.rate")
                    .doesNotContain("replica.alter.log.dirs.io.max.bytes.per.second");
        }
        assertThat(tool("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", bootstrap, "--describe", "--entity-type", "topics",
                "--entity-name", "moved")).doesNotContain("throttled.replicas");

        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                var partition = admin.describeTopics(List.of("moved")).allTopicNames().get().get("moved").partitions().get(0);
                assertThat(partition.replicas().stream().map(org.apache.kafka.common.Node::id).toList()).containsExactlyElementsOf(target);
                assertThat(partition.isr().stream().map(org.apache.kafka.common.Node::id).toList()).containsExactlyInAnyOrderElementsOf(target);
            });
        }
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(p, new org.apache.kafka.common.serialization.StringDeserializer(),
                new org.apache.kafka.common.serialization.StringDeserializer())) {
            var tp = new org.apache.kafka.common.TopicPartition("moved", 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            List<String> read = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> read.add(r.value()));
                return read.size() >= values.size();
            });
            assertThat(read).as("every record written before the move, in order").containsExactlyElementsOf(values);
        }
    }

    /**
     * An upgrade from a build before cluster versions, as kafka-features.sh sees it: the cluster stays at capstan.version 1
     * (batches in RocksDB, nothing the old build cannot read) until every broker supports more; the tool shows the
     * supported range and the level, a finalize is refused while a broker runs the old build and names it, a dry run
     * writes nothing, and after the finalize and a restart the brokers write data files.
     */
    @Test
    void kafkaFeaturesFinalizesTheClusterVersionOnceEveryBrokerSupportsIt() throws Exception {
        Path metadata = dir.resolve("metadata");
        BrokerProcess[] brokers = new BrokerProcess[2];
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(metadata, 100);
             ControllerProcess controller = new ControllerProcess(metadata, Path.of("target", "kafka-tools-logs", "features-controller.log")).start()) {
            // the registrations a cluster of the previous build left: no cluster version announced, none finalized
            for (int id = 0; id < brokers.length; id++) {
                store.create(BrokerRegistration.key(id), MetadataCodec.encode(new BrokerRegistration(id, "127.0.0.1", 1, null, 0)));
            }
            for (int id = 0; id < brokers.length; id++) {
                brokers[id] = new BrokerProcess(dir.resolve("features-" + id), Path.of("target", "kafka-tools-logs", "features-" + id),
                        Map.of("node.id", String.valueOf(id), "metadata.dir", metadata.toString(), "disk.min.free.bytes", "0"));
                brokers[id].start();
            }
            String bootstrap = BrokerProcess.bootstrap(brokers);
            String feature = "org.apache.kafka.tools.FeatureCommand";
            assertThat(tool(feature, "--bootstrap-server", bootstrap, "describe")).contains("Feature: capstan.version")
                    .containsPattern("capstan.version\\s+SupportedMinVersion: 1\\s+SupportedMaxVersion: " + ClusterVersion.LATEST
                            + "\\s+FinalizedVersionLevel: 1");
            assertThat(Files.readString(brokers[0].logFile())).contains("log.data.files is on but the cluster is at capstan.version 1");

            // broker 1 rolled back to the previous build (as its registration says) before the finalize
            brokers[1].stop();
            var stopped = store.get(BrokerRegistration.key(1)).orElseThrow();
            store.compareAndSet(BrokerRegistration.key(1), stopped.version(),
                    MetadataCodec.encode(new BrokerRegistration(1, "127.0.0.1", 1, null, 0)));
            Commands.Outcome refused = Commands.outcome(command(feature, "--bootstrap-server", brokers[0].bootstrap(), "upgrade", "--feature",
                    ClusterVersion.FEATURE + "=2"));
            assertThat(refused.exitCode()).isNotZero();
            assertThat(refused.output()).contains("broker 1 supports up to 1");

            brokers[1].start(); // upgraded again
            assertThat(tool(feature, "--bootstrap-server", bootstrap, "upgrade", "--feature", ClusterVersion.FEATURE + "=2", "--dry-run"))
                    .contains("capstan.version");
            assertThat(ClusterVersion.read(store).level()).as("a dry run writes nothing").isEqualTo(1);
            tool(feature, "--bootstrap-server", bootstrap, "upgrade", "--feature", ClusterVersion.FEATURE + "=2");
            assertThat(ClusterVersion.read(store).level()).isEqualTo(2);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(tool(feature, "--bootstrap-server", bootstrap, "describe"))
                    .containsPattern("capstan.version\\s+SupportedMinVersion: 1\\s+SupportedMaxVersion: " + ClusterVersion.LATEST
                            + "\\s+FinalizedVersionLevel: 2"));
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                // a replica on each broker: broker 0 writes these batches whether it leads or follows
                admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("after", 1, (short) 2))).all().get();
            }
            produceLargeBatches(bootstrap);
            assertThat(metric(brokers[0], "capstan_data_files_bytes")).as("data files only from the next start").isZero();

            brokers[0].stop();
            brokers[0].start();
            produceLargeBatches(bootstrap);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(metric(brokers[0], "capstan_data_files_bytes")).as("bytes in data files after the restart").isPositive());
        } finally {
            BrokerProcess.stopAll(brokers);
        }
    }

    /** Batches of about 20 KiB, well over the 512 bytes from which they go to data files, acknowledged by both replicas. */
    private static void produceLargeBatches(String bootstrap) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("acks", "all");
        p.put("linger.ms", "100");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 20; i++) {
                producer.send(new ProducerRecord<>("after", 0, "k", "x".repeat(1000)));
            }
            producer.flush();
        }
    }

    private static double metric(BrokerProcess broker, String name) throws Exception {
        return broker.admin("/metrics").lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private static String tool(String mainClass, String... args) throws Exception {
        return Commands.run(command(mainClass, args), "", Map.of(), Path.of("."));
    }

    private static List<String> command(String mainClass, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", LIB.toAbsolutePath() + File.separator + "*", mainClass));
        cmd.addAll(List.of(args));
        return cmd;
    }
}
