package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.capstan.cluster.version.ClusterVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.FeatureUpdate;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.UpdateFeaturesOptions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rolling upgrade across real versions (issue 18 item 6, decision 0028): three brokers of the previous release
 * (built from its git tag by e2e-tests/previous/build.sh, on-disk format 1 only) under an acks=all load, replaced
 * one at a time by this checkout's, one rolled back to the previous release and forward again before the cluster
 * version is raised (it can be: nothing was written it cannot read), the raise refused while a broker runs the previous
 * release, then raised, the brokers restarted onto data files, after which the previous release refuses the
 * directory instead of misreading it. At most one broker is down at any time; the application sees no error and
 * every acknowledged record is read back at its offset. Not part of CI: run it with e2e-tests/run-cross-version.
 */
@Tag("cross-version")
class CrossVersionUpgradeTest {
    private static final String PREVIOUS = System.getProperty("capstan.previous.classpath", "");
    private static final Path LOGS = Path.of("target", "cross-version-logs");

    @TempDir
    Path dir;

    private final BrokerProcess[] brokers = new BrokerProcess[3];
    private Path metadata;

    private BrokerProcess broker(int id, String classpath) throws Exception {
        BrokerProcess b = new BrokerProcess(dir.resolve("broker-" + id), LOGS.resolve("broker-" + id),
                Map.of("node.id", String.valueOf(id), "metadata.dir", metadata.toString(), "disk.min.free.bytes", "0"));
        return classpath == null ? b : b.withClasspath(classpath);
    }

    /** Stops broker {@code id} and starts the build of {@code classpath} (null: this checkout) on its data and ports. */
    private void replace(int id, String classpath) throws Exception {
        brokers[id].stop();
        BrokerProcess next = classpath == null ? brokers[id].withClasspath(BrokerClassArchive.BROKER_CLASSPATH) : brokers[id].withClasspath(classpath);
        next.start();
    }

    private static void awaitInSync(Admin admin, String topic) {
        await(topic + ": every replica in sync").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                .untilAsserted(() -> admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic).partitions()
                        .forEach(p -> assertThat(p.isr()).as("partition " + p.partition()).hasSize(3)));
    }

    private static int level(Admin admin) throws Exception {
        return admin.describeFeatures().featureMetadata().get(30, TimeUnit.SECONDS).finalizedFeatures().get(ClusterVersion.FEATURE).maxVersionLevel();
    }

    private static void raise(Admin admin) throws Exception {
        admin.updateFeatures(Map.of(ClusterVersion.FEATURE, new FeatureUpdate((short) ClusterVersion.DATA_FILES, FeatureUpdate.UpgradeType.UPGRADE)),
                new UpdateFeaturesOptions()).all().get(30, TimeUnit.SECONDS);
    }

    private static double metric(BrokerProcess broker, String name) throws Exception {
        return broker.admin("/metrics").lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    @Test
    void anUpgradeFromThePreviousReleaseRollsBackUntilTheClusterVersionIsRaisedAndLosesNothingUnderLoad() throws Exception {
        assertThat(PREVIOUS).as("the previous release's classpath: run this through e2e-tests/run-cross-version").isNotBlank();
        metadata = dir.resolve("metadata");
        try (ControllerProcess controller = new ControllerProcess(metadata, LOGS.resolve("controller.log")).start()) {
            for (int id = 0; id < brokers.length; id++) {
                brokers[id] = broker(id, PREVIOUS);
                brokers[id].start();
            }
            String bootstrap = BrokerProcess.bootstrap(brokers);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.createTopics(List.of(new NewTopic("orders", 3, (short) 3).configs(Map.of("min.insync.replicas", "2"))))
                        .all().get(30, TimeUnit.SECONDS);
                admin.createTopics(List.of(new NewTopic("large", 3, (short) 3))).all().get(30, TimeUnit.SECONDS);
                awaitInSync(admin, "orders");
                ProduceLoad load = new ProduceLoad(bootstrap, "orders", 3, 200, Duration.ofSeconds(60));
                try {
                    load.awaitMoreAcknowledged(300);

                    for (int id = brokers.length - 1; id >= 0; id--) {
                        replace(id, null);
                        awaitInSync(admin, "orders");
                        load.awaitMoreAcknowledged(200);
                    }
                    assertThat(level(admin)).as("upgraded from a cluster before versions: still at the first level").isEqualTo(1);
                    for (BrokerProcess b : brokers) {
                        assertThat(Files.readString(b.logFile())).contains("log.data.files is on but the cluster is at capstan.version 1");
                    }

                    // rolled back before the raise: the previous release opens the directory this version ran on
                    replace(1, PREVIOUS);
                    awaitInSync(admin, "orders");
                    load.awaitMoreAcknowledged(200);
                    assertThatThrownBy(() -> raise(admin)).hasMessageContaining("broker 1 supports up to 1");
                    replace(1, null);
                    awaitInSync(admin, "orders");

                    raise(admin);
                    // describeFeatures asks one broker, which learns the level from its metadata watch
                    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(level(admin)).isEqualTo(ClusterVersion.DATA_FILES));
                    for (int id = brokers.length - 1; id >= 0; id--) {
                        replace(id, null); // a restart onto what the level allows
                        awaitInSync(admin, "orders");
                        load.awaitMoreAcknowledged(200);
                    }
                    produceLargeBatches(bootstrap);
                    for (BrokerProcess b : brokers) {
                        assertThat(metric(b, "capstan_data_files_bytes")).as("data files after the raise and a restart").isPositive();
                    }

                    // after the raise, the previous release refuses the directory rather than misread it
                    brokers[0].stop();
                    BrokerProcess old = brokers[0].withClasspath(PREVIOUS);
                    assertThatThrownBy(old::start).hasMessageContaining("on-disk format 2, written by a newer Capstan");
                    brokers[0].withClasspath(BrokerClassArchive.BROKER_CLASSPATH).start();
                    awaitInSync(admin, "orders");
                    load.awaitMoreAcknowledged(200);
                } finally {
                    load.close();
                }
                assertThat(load.errors).as("errors the application saw across the upgrade, the rollback and the raise").isEmpty();
                assertThat(AcknowledgedRecords.verify(bootstrap, "orders", 3, load.acked)).as("every acknowledged record read back at its offset")
                        .isEqualTo(load.acked.size());
            }
        } finally {
            BrokerProcess.stopAll(brokers);
        }
    }

    private static void produceLargeBatches(String bootstrap) throws Exception {
        Properties p = AcknowledgedRecords.durableProducer(bootstrap);
        p.put("linger.ms", "100");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < 60; i++) {
                producer.send(new ProducerRecord<>("large", i % 3, null, new byte[1000])).get(30, TimeUnit.SECONDS);
            }
        }
    }
}
