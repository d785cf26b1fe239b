package io.capstan.broker.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.broker.Broker;
import io.capstan.broker.TlsMaterial;
import io.capstan.config.BrokerConfig;
import io.capstan.broker.security.ScramCredentialStore;
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
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three brokers whose only listener is SASL_SSL (SCRAM-SHA-512 over TLS), replication included, with ACLs on:
 * followers authenticate as the broker user, acknowledged records reach every replica and survive the leader's loss,
 * and a client claiming to be a replica moves neither the high watermark nor the ISR.
 */
class SecuredClusterTest {
    @TempDir
    Path dir;
    @TempDir
    Path certs;

    private final Broker[] brokers = new Broker[3];
    private LocalFileMetadataStore store;
    private FailoverController controller;
    private TlsMaterial tls;

    private Map<String, String> settings(int id, String interBrokerUser) {
        Map<String, String> s = new HashMap<>(tls.brokerSsl());
        s.put("node.id", String.valueOf(id));
        s.put("listeners", "SASL_SSL://127.0.0.1:0");
        s.put("sasl.enabled.mechanisms", "SCRAM-SHA-512");
        s.put("inter.broker.sasl.username", interBrokerUser);
        s.put("inter.broker.sasl.password", interBrokerUser + "-secret");
        s.put("authorizer.class.name", "capstan");
        s.put("super.users", "User:broker;User:admin");
        s.put("admin.port", "0");
        s.put("data.dir", dir.resolve("broker-" + id).toString());
        s.put("metadata.dir", dir.resolve("metadata").toString());
        s.put("disk.min.free.bytes", "0");
        s.put("broker.lease.ms", "1500");
        s.put("broker.heartbeat.interval.ms", "500");
        s.put("replica.lag.time.max.ms", "1500");
        s.put("replica.fetch.max.wait.ms", "100");
        return s;
    }

    @BeforeEach
    void startCluster() {
        tls = new TlsMaterial(certs);
        store = new LocalFileMetadataStore(dir.resolve("metadata"), 100);
        // users exist before the brokers start, as `capstan user create` makes them
        try (ScramCredentialStore users = new ScramCredentialStore(store)) {
            for (String user : List.of("broker", "admin", "mallory", "carol")) {
                users.upsertPassword(user, ScramMechanism.SCRAM_SHA_512, user + "-secret", 4096);
            }
        }
        for (int i = 0; i < 3; i++) {
            Map<String, String> s = settings(i, "broker");
            brokers[i] = new Broker(BrokerConfig.from(s), s);
        }
        controller = new FailoverController(store, System::currentTimeMillis);
        controller.start(100);
    }

    @AfterEach
    void stop() {
        if (controller != null) {
            controller.close();
        }
        for (Broker b : brokers) {
            if (b != null) {
                b.close();
            }
        }
        store.close();
    }

    private Properties client(String user) {
        Properties p = tls.clientSsl(null);
        List<String> all = new ArrayList<>();
        for (Broker b : brokers) {
            if (b != null) {
                all.add(b.bootstrap());
            }
        }
        p.put("bootstrap.servers", String.join(",", all));
        p.put("security.protocol", "SASL_SSL");
        p.put("sasl.mechanism", "SCRAM-SHA-512");
        p.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user
                + "\" password=\"" + user + "-secret\";");
        p.put("metadata.max.age.ms", "1000");
        p.put("request.timeout.ms", "5000");
        return p;
    }

    private ShardState state(String topic) {
        return new io.capstan.cluster.metadata.ShardStore(store).get(topic, 0).orElseThrow().state();
    }

    private void createTopic(String name) throws Exception {
        try (Admin admin = Admin.create(client("admin"))) {
            admin.createTopics(List.of(new NewTopic(name, 1, (short) 3).configs(Map.of("min.insync.replicas", "2")))).all().get();
            await().atMost(Duration.ofSeconds(30)).until(() -> state(name).leader() >= 0 && state(name).isr().size() == 3);
        }
    }

    private List<String> produce(String topic, int from, int count) throws Exception {
        Properties p = client("admin");
        p.put("acks", "all");
        p.put("delivery.timeout.ms", "60000");
        p.put("retry.backoff.ms", "50");
        List<String> values = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = from; i < from + count; i++) {
                values.add("v" + i);
                sent.add(producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)));
            }
            for (Future<RecordMetadata> f : sent) {
                f.get();
            }
        }
        return values;
    }

    @Test
    void replicationOverSaslSslKeepsEveryAcknowledgedRecordThroughAFailover() throws Exception {
        createTopic("orders");
        List<String> expected = new ArrayList<>(produce("orders", 0, 2000));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (Broker b : brokers) {
                assertThat(b.logs().catalog().shard(new TopicPartition("orders", 0)).logEnd()).isEqualTo(2000);
            }
        });
        int oldLeader = state("orders").leader();
        brokers[oldLeader].close();
        brokers[oldLeader] = null;
        await().atMost(Duration.ofSeconds(30)).until(() -> state("orders").leader() >= 0 && state("orders").leader() != oldLeader);
        expected.addAll(produce("orders", 2000, 1000));
        Properties p = client("admin");
        p.put("auto.offset.reset", "earliest");
        List<String> got = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(new TopicPartition("orders", 0)));
            long deadline = System.currentTimeMillis() + 60_000;
            while (got.size() < expected.size() && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    got.add(r.value());
                }
            }
        }
        assertThat(got).as("every acknowledged record exactly once, in order").containsExactlyElementsOf(expected);
    }

    @Test
    void followersReachANewLeaderAfterTheCaIsReplacedWithoutARestart() throws Exception {
        createTopic("rotated");
        produce("rotated", 0, 500);
        // a new CA of the same name, a broker certificate of it and a trust store holding only it, where the old ones were
        io.capstan.certs.CertificateAuthority newCa = io.capstan.certs.CertificateAuthority.create("capstan-test-ca", Duration.ofDays(1));
        io.capstan.certs.IssuedCertificate renewed = newCa.issue(io.capstan.certs.CertificateAuthority.Request.of("CN=broker-0,O=capstan",
                Duration.ofDays(1)).withDns("localhost").withIps("127.0.0.1"));
        renewed.writePkcs12(certs.resolve("broker.p12"), "broker", TlsMaterial.PASSWORD.toCharArray());
        renewed.writeTrustStorePkcs12(certs.resolve("truststore.p12"), TlsMaterial.PASSWORD.toCharArray());
        for (Broker b : brokers) {
            await("broker " + b.port() + " serves the new certificate").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .ignoreExceptions().until(() -> describeAs(InterBrokerTransport.of(BrokerConfig.from(settings(97, "admin")).security()), b, "rotated")
                            == Errors.NONE);
        }
        // the followers' connections predate the rotation; a new leader makes them connect again, over the new material
        int oldLeader = state("rotated").leader();
        brokers[oldLeader].close();
        brokers[oldLeader] = null;
        await().atMost(Duration.ofSeconds(30)).until(() -> state("rotated").leader() >= 0 && state("rotated").leader() != oldLeader);
        produce("rotated", 500, 500); // acks=all with min.insync.replicas 2: the remaining follower must be fetching
        for (Broker b : brokers) {
            if (b != null) {
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                        assertThat(b.logs().catalog().shard(new TopicPartition("rotated", 0)).logEnd()).as("broker " + b.port()).isEqualTo(1000));
            }
        }
    }

    @Test
    void aClientClaimingToBeAReplicaMovesNeitherTheHighWatermarkNorTheIsr() throws Exception {
        createTopic("guarded");
        ShardState initial = state("guarded");
        int leader = initial.leader();
        int victim = initial.replicas().stream().filter(r -> r != leader).findFirst().orElseThrow();
        brokers[victim].close();
        brokers[victim] = null;
        await().atMost(Duration.ofSeconds(30)).until(() -> !state("guarded").isr().contains(victim));
        produce("guarded", 0, 10);
        Broker leading = brokers[leader];
        var shard = leading.logs().catalog().shard(new TopicPartition("guarded", 0));
        long hw = shard.highWatermark();
        long victimEnd = victimEnd(leading, victim);
        assertThat(victimEnd).as("the stopped replica is behind").isLessThan(shard.logEnd());
        Uuid topicId = leading.logs().catalog().topic("guarded").id();
        InterBrokerTransport asMallory = InterBrokerTransport.of(BrokerConfig.from(settings(99, "mallory")).security());
        List<Errors> answers = new ArrayList<>();
        try (LeaderConnection c = new LeaderConnection(asMallory, "127.0.0.1", leading.port(), 10_000, "spoofer")) {
            for (int i = 0; i < 20; i++) {
                // claims to be the stopped replica, fully caught up
                FetchRequestData fetch = new FetchRequestData().setReplicaId(victim).setMaxWaitMs(0).setMinBytes(0).setMaxBytes(1 << 20);
                fetch.topics().add(new FetchRequestData.FetchTopic().setTopic("guarded").setTopicId(topicId)
                        .setPartitions(List.of(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(shard.logEnd())
                                .setCurrentLeaderEpoch(state("guarded").leaderEpoch()).setPartitionMaxBytes(1 << 20))));
                FetchResponseData r = c.send(ApiKeys.FETCH, (short) 12, fetch);
                answers.add(Errors.forCode(r.responses().get(0).partitions().get(0).errorCode()));
            }
        }
        // the leader records a replica's progress as it answers its fetch, so "not moved" is checked at once, not waited for
        assertThat(victimEnd(leading, victim)).as("the leader recorded no progress for the spoofed replica").isEqualTo(victimEnd);
        assertThat(state("guarded").isr()).as("the spoofed replica was not put back in sync").doesNotContain(victim);
        assertThat(shard.highWatermark()).isEqualTo(hw);
        assertThat(answers).containsOnly(Errors.TOPIC_AUTHORIZATION_FAILED).hasSize(20);
    }

    private static long victimEnd(Broker leader, int replica) {
        return leader.replicas().progress().stream().filter(p -> p.topic().equals("guarded")).findFirst().orElseThrow()
                .replicaEnds().get(replica);
    }

    @Test
    void anAclCreatedThroughOneBrokerIsEnforcedByEveryBrokerWithinASecond() throws Exception {
        createTopic("shared");
        InterBrokerTransport asCarol = InterBrokerTransport.of(BrokerConfig.from(settings(98, "carol")).security());
        for (Broker b : brokers) {
            assertThat(describeAs(asCarol, b, "shared")).as("before the ACL, broker " + b.port()).isEqualTo(Errors.TOPIC_AUTHORIZATION_FAILED);
        }
        Properties admin = client("admin");
        admin.put("bootstrap.servers", brokers[0].bootstrap());
        try (Admin a = Admin.create(admin)) {
            a.createAcls(List.of(new org.apache.kafka.common.acl.AclBinding(
                    new org.apache.kafka.common.resource.ResourcePattern(org.apache.kafka.common.resource.ResourceType.TOPIC, "shared",
                            org.apache.kafka.common.resource.PatternType.LITERAL),
                    new org.apache.kafka.common.acl.AccessControlEntry("User:carol", "*", org.apache.kafka.common.acl.AclOperation.DESCRIBE,
                            org.apache.kafka.common.acl.AclPermissionType.ALLOW)))).all().get();
        }
        for (Broker b : brokers) {
            await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(50))
                    .untilAsserted(() -> assertThat(describeAs(asCarol, b, "shared")).as("after the ACL, broker " + b.port()).isEqualTo(Errors.NONE));
        }
    }

    /** Metadata for one topic, asked of one broker directly (not whichever one a client would pick). */
    private static Errors describeAs(InterBrokerTransport transport, Broker broker, String topic) throws Exception {
        try (LeaderConnection c = new LeaderConnection(transport, "127.0.0.1", broker.port(), 10_000, "acl-probe")) {
            org.apache.kafka.common.message.MetadataRequestData request = new org.apache.kafka.common.message.MetadataRequestData()
                    .setTopics(List.of(new org.apache.kafka.common.message.MetadataRequestData.MetadataRequestTopic().setName(topic)));
            org.apache.kafka.common.message.MetadataResponseData r = c.send(ApiKeys.METADATA, (short) 12, request);
            return Errors.forCode(r.topics().iterator().next().errorCode());
        }
    }
}
