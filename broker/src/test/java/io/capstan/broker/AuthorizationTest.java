package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka ACLs enforced on a SASL listener, driven by kafka-clients: each operation allowed exactly by its ACL, and each
 * refusal with the error code Kafka gives and nothing written or deleted.
 */
class AuthorizationTest {
    @TempDir
    Path dir;
    TestBroker broker;

    @BeforeEach
    void start() throws Exception {
        Map<String, String> s = new HashMap<>();
        s.put("listeners", "SASL_PLAINTEXT://127.0.0.1:0");
        s.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        s.put("super.users", "User:admin");
        broker = new TestBroker(dir, s);
        for (String user : List.of("admin", "alice", "bob", "carol")) {
            broker.broker().scramCredentials().upsertPassword(user, ScramMechanism.SCRAM_SHA_512, user + "-secret", 4096);
        }
        try (Admin admin = Admin.create(as("admin"))) {
            admin.createTopics(List.of(new NewTopic("orders", 1, (short) 1), new NewTopic("secret", 1, (short) 1))).all().get();
            admin.createAcls(List.of(
                    acl(ResourceType.TOPIC, "orders", "User:alice", AclOperation.WRITE),
                    acl(ResourceType.TOPIC, "orders", "User:bob", AclOperation.READ),
                    acl(ResourceType.GROUP, "readers-", PatternType.PREFIXED, "User:bob", AclOperation.READ))).all().get();
        }
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    static AclBinding acl(ResourceType type, String name, String principal, AclOperation op) {
        return acl(type, name, PatternType.LITERAL, principal, op);
    }

    static AclBinding acl(ResourceType type, String name, PatternType pattern, String principal, AclOperation op) {
        return new AclBinding(new ResourcePattern(type, name, pattern), new AccessControlEntry(principal, "*", op, AclPermissionType.ALLOW));
    }

    private Properties as(String user) {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrap("SASL_PLAINTEXT"));
        p.put("security.protocol", "SASL_PLAINTEXT");
        p.put("sasl.mechanism", "SCRAM-SHA-512");
        p.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user
                + "\" password=\"" + user + "-secret\";");
        p.put("max.block.ms", "15000");
        p.put("default.api.timeout.ms", "15000");
        p.put("request.timeout.ms", "10000");
        return p;
    }

    private long logEnd(String topic) {
        return broker.broker().logs().catalog().shard(new TopicPartition(topic, 0)).logEnd();
    }

    @Test
    void aTransactionalProducerNeedsWriteOnItsTransactionalId() throws Exception {
        Properties p = as("alice");
        p.put("transactional.id", "orders-writer");
        try (KafkaProducer<String, String> refused = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            assertThatThrownBy(refused::initTransactions)
                    .isInstanceOf(org.apache.kafka.common.errors.TransactionalIdAuthorizationException.class);
        }
        try (Admin admin = Admin.create(as("admin"))) {
            admin.createAcls(List.of(acl(ResourceType.TRANSACTIONAL_ID, "orders-writer", "User:alice", AclOperation.WRITE),
                    acl(ResourceType.TRANSACTIONAL_ID, "orders-writer", "User:alice", AclOperation.DESCRIBE))).all().get();
        }
        try (KafkaProducer<String, String> allowed = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            allowed.initTransactions();
            allowed.beginTransaction();
            allowed.send(new ProducerRecord<>("orders", "k", "in a transaction"));
            allowed.commitTransaction();
        }
        // commitTransaction returns once the decision is replicated; the marker follows
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> logEnd("orders") == 2);
    }

    @Test
    void onlyClusterActionMayWriteTransactionMarkers() throws Exception {
        var spec = new org.apache.kafka.clients.admin.AbortTransactionSpec(new TopicPartition("orders", 0), 5, (short) 0, 0);
        try (Admin alice = Admin.create(as("alice"))) {
            assertThatThrownBy(() -> alice.abortTransaction(spec).all().get())
                    .hasCauseInstanceOf(org.apache.kafka.common.errors.ClusterAuthorizationException.class);
        }
        assertThat(logEnd("orders")).as("no marker was written").isZero();
        try (Admin admin = Admin.create(as("admin"))) {
            admin.abortTransaction(spec).all().get();
        }
        assertThat(logEnd("orders")).as("the super user's marker").isEqualTo(1);
    }

    @Test
    void producersWriteOnlyWhereAnAclAllows() throws Exception {
        try (KafkaProducer<String, String> alice = new KafkaProducer<>(as("alice"), new StringSerializer(), new StringSerializer())) {
            assertThat(alice.send(new ProducerRecord<>("orders", "k", "v")).get().offset()).isZero();
            assertThatThrownBy(() -> alice.send(new ProducerRecord<>("secret", "k", "v")).get())
                    .hasCauseInstanceOf(TopicAuthorizationException.class);
        }
        assertThat(logEnd("secret")).isZero();
        // carol may see the topic but write nowhere: the idempotent producer's InitProducerId is refused
        try (Admin admin = Admin.create(as("admin"))) {
            admin.createAcls(List.of(acl(ResourceType.TOPIC, "orders", "User:carol", AclOperation.DESCRIBE))).all().get();
        }
        try (KafkaProducer<String, String> carol = new KafkaProducer<>(as("carol"), new StringSerializer(), new StringSerializer())) {
            assertThatThrownBy(() -> carol.send(new ProducerRecord<>("orders", "k", "v")).get())
                    .hasCauseInstanceOf(ClusterAuthorizationException.class);
        }
        assertThat(logEnd("orders")).isEqualTo(1);
    }

    @Test
    void consumersReadOnlyTheirTopicsInTheirGroups() throws Exception {
        try (KafkaProducer<String, String> alice = new KafkaProducer<>(as("alice"), new StringSerializer(), new StringSerializer())) {
            alice.send(new ProducerRecord<>("orders", "k", "v")).get();
        }
        Properties bob = as("bob");
        bob.put("group.id", "readers-1");
        bob.put("auto.offset.reset", "earliest");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(bob, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of("orders"));
            var records = TestPolls.until(consumer, 1, Duration.ofSeconds(30));
            assertThat(records).extracting(r -> r.value()).containsExactly("v");
            consumer.commitSync();
        }
        Properties wrongGroup = as("bob");
        wrongGroup.put("group.id", "writers");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(wrongGroup, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of("orders"));
            assertThatThrownBy(() -> consumer.poll(Duration.ofSeconds(15))).isInstanceOf(GroupAuthorizationException.class);
        }
        Properties alice = as("alice");
        alice.put("auto.offset.reset", "earliest");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(alice, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(new TopicPartition("orders", 0)));
            assertThatThrownBy(() -> consumer.poll(Duration.ofSeconds(15))).isInstanceOf(TopicAuthorizationException.class)
                    .satisfies(e -> assertThat(((TopicAuthorizationException) e).unauthorizedTopics()).containsExactly("orders"));
        }
    }

    @Test
    void consumerProtocolMembersNeedReadOnTheGroupAndDescribeOnTheirTopics() throws Exception {
        try (KafkaProducer<String, String> alice = new KafkaProducer<>(as("alice"), new StringSerializer(), new StringSerializer())) {
            alice.send(new ProducerRecord<>("orders", "k", "v")).get();
        }
        Properties bob = as("bob");
        bob.put("group.id", "readers-848");
        bob.put("group.protocol", "consumer");
        bob.put("auto.offset.reset", "earliest");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(bob, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of("orders"));
            assertThat(TestPolls.until(consumer, 1, Duration.ofSeconds(30))).extracting(r -> r.value()).containsExactly("v");
            consumer.commitSync();
        }
        Properties wrongGroup = as("bob");
        wrongGroup.put("group.id", "writers-848");
        wrongGroup.put("group.protocol", "consumer");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(wrongGroup, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of("orders"));
            assertThatThrownBy(() -> consumer.poll(Duration.ofSeconds(15))).isInstanceOf(GroupAuthorizationException.class);
        }
        // bob may read the group but not see "secret": ConsumerGroupHeartbeat names it, and is refused as in Kafka 4
        Properties hidden = as("bob");
        hidden.put("group.id", "readers-848-secret");
        hidden.put("group.protocol", "consumer");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(hidden, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of("secret"));
            assertThatThrownBy(() -> consumer.poll(Duration.ofSeconds(15))).isInstanceOf(TopicAuthorizationException.class);
        }
        try (Admin carol = Admin.create(as("carol")); Admin admin = Admin.create(as("admin"))) {
            assertThatThrownBy(() -> carol.describeConsumerGroups(List.of("readers-848")).all().get())
                    .hasCauseInstanceOf(GroupAuthorizationException.class);
            assertThat(admin.describeConsumerGroups(List.of("readers-848")).all().get().get("readers-848").type())
                    .isEqualTo(org.apache.kafka.common.GroupType.CONSUMER);
        }
    }

    @Test
    void metadataNamesOnlyTopicsThePrincipalMayDescribe() throws Exception {
        try (Admin carol = Admin.create(as("carol")); Admin alice = Admin.create(as("alice")); Admin admin = Admin.create(as("admin"))) {
            assertThat(carol.listTopics().names().get()).isEmpty();
            assertThat(alice.listTopics().names().get()).containsExactly("orders");
            assertThat(admin.listTopics().names().get()).containsExactlyInAnyOrder("orders", "secret");
            assertThatThrownBy(() -> carol.describeTopics(List.of("orders")).allTopicNames().get())
                    .hasCauseInstanceOf(TopicAuthorizationException.class);
            var described = alice.describeTopics(List.of("orders"), new DescribeTopicsOptions().includeAuthorizedOperations(true))
                    .allTopicNames().get().get("orders");
            assertThat(described.authorizedOperations()).containsExactlyInAnyOrder(AclOperation.WRITE, AclOperation.DESCRIBE);
            assertThat(admin.describeCluster(new org.apache.kafka.clients.admin.DescribeClusterOptions().includeAuthorizedOperations(true))
                    .authorizedOperations().get()).contains(AclOperation.ALTER, AclOperation.CLUSTER_ACTION, AclOperation.CREATE);
        }
    }

    @Test
    void topicsAndAclsChangeOnlyWithTheRightAcl() throws Exception {
        try (Admin carol = Admin.create(as("carol"))) {
            assertThatThrownBy(() -> carol.createTopics(List.of(new NewTopic("mine", 1, (short) 1))).all().get())
                    .hasCauseInstanceOf(TopicAuthorizationException.class);
            assertThatThrownBy(() -> carol.deleteTopics(List.of("orders")).all().get())
                    .hasCauseInstanceOf(TopicAuthorizationException.class);
            var orders = new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.TOPIC, "orders");
            assertThatThrownBy(() -> carol.incrementalAlterConfigs(java.util.Map.of(orders, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                    new org.apache.kafka.clients.admin.ConfigEntry("retention.ms", "1"), org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET))))
                    .all().get()).hasCauseInstanceOf(TopicAuthorizationException.class);
            assertThatThrownBy(() -> carol.deleteRecords(java.util.Map.of(new org.apache.kafka.common.TopicPartition("orders", 0),
                    org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(0))).all().get()).hasCauseInstanceOf(TopicAuthorizationException.class);
            assertThatThrownBy(() -> carol.createPartitions(java.util.Map.of("orders", org.apache.kafka.clients.admin.NewPartitions.increaseTo(2)))
                    .all().get()).hasCauseInstanceOf(TopicAuthorizationException.class);
            assertThatThrownBy(() -> carol.deleteConsumerGroupOffsets("any-group", java.util.Set.of(new org.apache.kafka.common.TopicPartition("orders", 0)))
                    .all().get()).hasCauseInstanceOf(org.apache.kafka.common.errors.GroupAuthorizationException.class);
            var thisBroker = new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.BROKER, "0");
            assertThatThrownBy(() -> carol.incrementalAlterConfigs(java.util.Map.of(thisBroker, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                    new org.apache.kafka.clients.admin.ConfigEntry("log.retention.ms", "1"), org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET))))
                    .all().get()).hasCauseInstanceOf(ClusterAuthorizationException.class);
            // the level a fresh cluster is at: allowed, it would succeed as unchanged
            assertThatThrownBy(() -> carol.updateFeatures(java.util.Map.of("capstan.version", new org.apache.kafka.clients.admin.FeatureUpdate(
                    (short) io.capstan.cluster.version.ClusterVersion.LATEST, org.apache.kafka.clients.admin.FeatureUpdate.UpgradeType.UPGRADE)),
                    new org.apache.kafka.clients.admin.UpdateFeaturesOptions()).all().get()).hasCauseInstanceOf(ClusterAuthorizationException.class);
            assertThatThrownBy(() -> carol.createAcls(List.of(acl(ResourceType.TOPIC, "*", "User:carol", AclOperation.ALL))).all().get())
                    .hasCauseInstanceOf(ClusterAuthorizationException.class);
            assertThatThrownBy(() -> carol.describeAcls(AclBindingFilter.ANY).values().get())
                    .hasCauseInstanceOf(ClusterAuthorizationException.class);
            assertThatThrownBy(() -> carol.deleteAcls(List.of(AclBindingFilter.ANY)).all().get())
                    .hasCauseInstanceOf(ClusterAuthorizationException.class);
        }
        assertThat(broker.broker().logs().catalog().topic("orders")).as("not deleted").isNotNull();
        assertThat(broker.broker().logs().catalog().topic("mine")).as("not created").isNull();
        assertThat(broker.broker().logs().catalog().topic("orders").configs()).as("configs not changed").doesNotContainKey("retention.ms");
        assertThat(broker.broker().logs().catalog().topic("orders").partitions()).as("no partition added").isEqualTo(1);
        try (Admin admin = Admin.create(as("admin"))) {
            assertThat(admin.describeAcls(AclBindingFilter.ANY).values().get()).hasSize(3);
            var aliceFilter = new AclBindingFilter(ResourcePatternFilter.ANY,
                    new AccessControlEntryFilter("User:alice", null, AclOperation.ANY, AclPermissionType.ANY));
            assertThat(admin.deleteAcls(List.of(aliceFilter)).all().get()).hasSize(1);
            assertThat(admin.describeAcls(AclBindingFilter.ANY).values().get()).hasSize(2);
        }
        try (KafkaProducer<String, String> alice = new KafkaProducer<>(as("alice"), new StringSerializer(), new StringSerializer())) {
            assertThatThrownBy(() -> alice.send(new ProducerRecord<>("orders", "k", "v")).get()).cause()
                    .isInstanceOfAny(TopicAuthorizationException.class, ClusterAuthorizationException.class);
        }
        assertThat(logEnd("orders")).isZero();
    }
}
