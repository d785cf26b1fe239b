package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.capstan.broker.log.FatalErrorHandler;
import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.version.ClusterVersion;
import io.capstan.config.BrokerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.FeatureMetadata;
import org.apache.kafka.clients.admin.FeatureUpdate;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.UpdateFeaturesOptions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InvalidUpdateVersionException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster version gate (decision 0028) on a real broker, log and file metadata store, through Kafka's Admin client
 * (what kafka-features.sh uses): a new cluster starts at the latest version and writes data files; a cluster from
 * before versions keeps batches in RocksDB until every broker supports more and it is finalized, and uses data files
 * from the next start; a finalize a broker does not support is refused naming it; lowering is refused; a cluster
 * finalized past this build stops the broker.
 */
class ClusterVersionUpgradeTest {
    @TempDir
    Path dir;

    private Broker broker(FatalErrorHandler onFatal) {
        Map<String, String> s = new HashMap<>();
        s.put("node.id", "1");
        s.put("listener.port", "0");
        s.put("admin.port", "-1");
        s.put("data.dir", dir.resolve("broker-1").toString());
        s.put("metadata.dir", dir.resolve("metadata").toString());
        s.put("disk.min.free.bytes", "0");
        return new Broker(BrokerConfig.from(s), s, onFatal);
    }

    private Broker broker() {
        return broker((what, cause) -> { });
    }

    private static Admin admin(Broker b) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrap());
        return Admin.create(p);
    }

    private static void produceLargeBatch(Broker b, String topic) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrap());
        p.put(ProducerConfig.LINGER_MS_CONFIG, "100");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < 20; i++) {
                producer.send(new ProducerRecord<>(topic, 0, null, new byte[1024]));
            }
            producer.flush();
        }
    }

    private static FeatureMetadata features(Admin admin) throws Exception {
        return admin.describeFeatures().featureMetadata().get(30, TimeUnit.SECONDS);
    }

    private static void finalize(Admin admin, int level, boolean validateOnly) throws Exception {
        admin.updateFeatures(Map.of(ClusterVersion.FEATURE, new FeatureUpdate((short) level, FeatureUpdate.UpgradeType.UPGRADE)),
                new UpdateFeaturesOptions().validateOnly(validateOnly)).all().get(30, TimeUnit.SECONDS);
    }

    @Test
    void aNewClusterStartsAtTheLatestVersionAndWritesDataFiles() throws Exception {
        try (Broker b = broker(); Admin admin = admin(b)) {
            FeatureMetadata features = features(admin);
            assertThat(features.finalizedFeatures().get(ClusterVersion.FEATURE).maxVersionLevel()).isEqualTo((short) ClusterVersion.LATEST);
            assertThat(features.supportedFeatures().get(ClusterVersion.FEATURE).minVersion()).isEqualTo((short) ClusterVersion.FIRST);
            assertThat(features.supportedFeatures().get(ClusterVersion.FEATURE).maxVersion()).isEqualTo((short) ClusterVersion.LATEST);
            admin.createTopics(List.of(new NewTopic("t", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            produceLargeBatch(b, "t");
            assertThat(b.logs().store().formatVersion()).as("data files framed in rounds").isEqualTo(3);
            assertThat(b.logs().dataFileStats()[0]).as("bytes in data files").isPositive();
        }
    }

    @Test
    void aClusterFromBeforeVersionsKeepsItsFormatUntilEveryBrokerSupportsMoreAndItIsFinalized() throws Exception {
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir.resolve("metadata"), 100)) {
            // broker 2 still runs a build from before versions: its registration announces none
            store.create(BrokerRegistration.key(2), MetadataCodec.encode(new BrokerRegistration(2, "127.0.0.1", 1, null, 0)));
        }
        try (Broker b = broker(); Admin admin = admin(b)) {
            assertThat(features(admin).finalizedFeatures().get(ClusterVersion.FEATURE).maxVersionLevel()).isEqualTo((short) 1);
            admin.createTopics(List.of(new NewTopic("t", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            produceLargeBatch(b, "t");
            assertThat(b.logs().store().formatVersion()).as("nothing the previous build cannot read").isEqualTo(1);
            assertThat(b.logs().dataFileStats()[0]).isZero();

            assertThatThrownBy(() -> finalize(admin, 2, false)).cause().isInstanceOf(InvalidUpdateVersionException.class)
                    .hasMessageContaining("broker 2 supports up to 1").hasMessageContaining("finish upgrading those brokers");
            assertThat(features(admin).finalizedFeatures().get(ClusterVersion.FEATURE).maxVersionLevel()).isEqualTo((short) 1);

            // broker 2 upgraded: it registers supporting the latest
            try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir.resolve("metadata"), 100)) {
                store.compareAndSet(BrokerRegistration.key(2), store.get(BrokerRegistration.key(2)).orElseThrow().version(),
                        MetadataCodec.encode(new BrokerRegistration(2, "127.0.0.1", 1, null, 0).supportingUpTo(ClusterVersion.LATEST)));
            }
            finalize(admin, 2, true);
            assertThat(features(admin).finalizedFeatures().get(ClusterVersion.FEATURE).maxVersionLevel()).as("validate only").isEqualTo((short) 1);
            finalize(admin, 2, false);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(features(admin).finalizedFeatures().get(ClusterVersion.FEATURE).maxVersionLevel()).isEqualTo((short) 2));
            assertThatThrownBy(() -> admin.updateFeatures(Map.of(ClusterVersion.FEATURE, new FeatureUpdate((short) 1,
                    FeatureUpdate.UpgradeType.SAFE_DOWNGRADE)), new UpdateFeaturesOptions()).all().get(30, TimeUnit.SECONDS))
                    .cause().isInstanceOf(InvalidUpdateVersionException.class).hasMessageContaining("cannot be lowered");
            produceLargeBatch(b, "t");
            assertThat(b.logs().dataFileStats()[0]).as("a finalize takes effect at the next start").isZero();
            assertThat(b.logs().store().formatVersion()).isEqualTo(1);
        }
        try (Broker b = broker(); Admin admin = admin(b)) {
            produceLargeBatch(b, "t");
            assertThat(b.logs().store().formatVersion()).as("data files, their rounds not framed at version 2").isEqualTo(2);
            assertThat(b.logs().dataFileStats()[0]).as("bytes in data files after the restart").isPositive();
            finalize(admin, ClusterVersion.DATA_FILE_ROUNDS, false);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(features(admin).finalizedFeatures()
                    .get(ClusterVersion.FEATURE).maxVersionLevel()).isEqualTo((short) ClusterVersion.DATA_FILE_ROUNDS));
        }
        try (Broker b = broker()) {
            produceLargeBatch(b, "t");
            assertThat(b.logs().store().formatVersion()).as("rounds framed in the data files from the next start").isEqualTo(3);
        }
    }

    @Test
    void transactionVersionAndUnknownFeaturesAreRefusedSayingWhy() throws Exception {
        try (Broker b = broker(); Admin admin = admin(b)) {
            assertThatThrownBy(() -> admin.updateFeatures(Map.of("transaction.version", new FeatureUpdate((short) 1,
                    FeatureUpdate.UpgradeType.UPGRADE)), new UpdateFeaturesOptions()).all().get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(InvalidUpdateVersionException.class)
                    .hasMessageContaining("broker setting");
            assertThatThrownBy(() -> finalize(admin, ClusterVersion.LATEST + 1, false)).cause()
                    .isInstanceOf(InvalidUpdateVersionException.class).hasMessageContaining("newer than this broker supports");
        }
    }

    @Test
    void aClusterFinalizedPastThisBuildStopsTheBroker() throws Exception {
        AtomicReference<String> fatal = new AtomicReference<>();
        try (Broker ignored = broker((what, cause) -> fatal.compareAndSet(null, what))) {
            try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir.resolve("metadata"), 100)) {
                store.compareAndSet(ClusterVersion.KEY, store.get(ClusterVersion.KEY).orElseThrow().version(),
                        MetadataCodec.encode(new ClusterVersion(ClusterVersion.LATEST + 1)));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> fatal.get() != null);
            assertThat(fatal.get()).contains("finalized at capstan.version " + (ClusterVersion.LATEST + 1)).contains("stopping");
        }
        assertThatThrownBy(this::broker).hasMessageContaining("this build supports up to " + ClusterVersion.LATEST)
                .hasMessageContaining("run a Capstan version that supports it");
    }
}
