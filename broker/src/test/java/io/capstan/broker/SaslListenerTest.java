package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.admin.UserScramCredentialsDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SASL listeners with real kafka-clients: SCRAM-SHA-512 over TLS and SCRAM-SHA-256 in the clear with users managed by
 * Kafka's AdminClient, PLAIN from a file, re-authentication, and every way a login can fail (each with the error the
 * client sees and nothing written).
 */
class SaslListenerTest {
    @TempDir
    Path dir;
    @TempDir
    Path certs;
    TestBroker broker;
    TlsMaterial tls;

    @BeforeEach
    void start() throws Exception {
        tls = new TlsMaterial(certs);
        Path plainUsers = certs.resolve("plain-users.properties");
        Files.writeString(plainUsers, "carol=carol-secret\n");
        Map<String, String> s = new HashMap<>(tls.brokerSsl());
        s.put("listeners", "PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0");
        s.put("sasl.enabled.mechanisms", "SCRAM-SHA-512,SCRAM-SHA-256,PLAIN");
        s.put("sasl.plain.credentials.file", plainUsers.toString());
        s.put("connection.failed.authentication.delay.ms", "50");
        s.put("connections.max.reauth.ms", "1500");
        broker = new TestBroker(dir, s);
        try (Admin admin = Admin.create(plain())) {
            admin.alterUserScramCredentials(List.of(
                    new UserScramCredentialUpsertion("alice", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), "alice-secret"),
                    new UserScramCredentialUpsertion("bob", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), "bob-secret")))
                    .all().get();
            admin.createTopics(List.of(new NewTopic("orders", 1, (short) 1))).all().get();
        }
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private Properties plain() {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrap("PLAINTEXT"));
        return p;
    }

    private Properties sasl(String listener, String mechanism, String user, String password) {
        Properties p = listener.equals("SASL_SSL") ? tls.clientSsl(null) : new Properties();
        p.put("bootstrap.servers", broker.bootstrap(listener));
        p.put("security.protocol", listener);
        p.put("sasl.mechanism", mechanism);
        String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
        p.put("sasl.jaas.config", module + " required username=\"" + user + "\" password=\"" + password + "\";");
        p.put("max.block.ms", "15000");
        p.put("request.timeout.ms", "10000");
        p.put("default.api.timeout.ms", "15000");
        return p;
    }

    private long logEnd() {
        return broker.broker().logs().catalog().shard(new TopicPartition("orders", 0)).logEnd();
    }

    private double counter(String name, String stage) {
        return broker.broker().metrics().registry().scrape().stream().filter(m -> m.getMetadata().getName().equals(name))
                .flatMap(m -> ((CounterSnapshot) m).getDataPoints().stream())
                .filter(d -> stage == null || d.getLabels().get("stage").equals(stage))
                .mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue).sum();
    }

    private void produce(Properties p, int count, String prefix) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>("orders", prefix + i, prefix + "-value-" + i));
            }
            producer.flush();
        }
    }

    @Test
    void scramUsersManagedByTheAdminClientProduceAndConsumeOverEachListener() throws Exception {
        try (Admin admin = Admin.create(plain())) {
            Map<String, UserScramCredentialsDescription> users = admin.describeUserScramCredentials().all().get();
            assertThat(users).containsOnlyKeys("alice", "bob");
            assertThat(users.get("alice").credentialInfos()).containsExactly(new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192));
        }
        produce(sasl("SASL_SSL", "SCRAM-SHA-512", "alice", "alice-secret"), 200, "a");
        produce(sasl("SASL_PLAINTEXT", "SCRAM-SHA-256", "bob", "bob-secret"), 100, "b");
        produce(sasl("SASL_SSL", "PLAIN", "carol", "carol-secret"), 50, "c");
        var records = TestBroker.readFromStart(sasl("SASL_SSL", "SCRAM-SHA-256", "bob", "bob-secret"), "orders", 1, 350);
        assertThat(records).hasSize(350);
        for (int i = 0; i < 350; i++) {
            String expected = i < 200 ? "a" + i : i < 300 ? "b" + (i - 200) : "c" + (i - 300);
            assertThat(records.get(i).offset()).isEqualTo(i);
            assertThat(records.get(i).key()).isEqualTo(expected);
        }
        // the store keeps derived keys only: neither password appears anywhere in it, its change log included
        try (var files = Files.walk(dir.resolve("capstan-metadata"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String content = new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1);
                assertThat(content).doesNotContain("alice-secret").doesNotContain("bob-secret");
            }
        }
    }

    @Test
    void aWrongPasswordAnUnknownUserAndAWrongMechanismAreRefusedAndWriteNothing() throws Exception {
        long before = logEnd();
        assertLoginFails(sasl("SASL_SSL", "SCRAM-SHA-512", "alice", "wrong"), "SCRAM-SHA-512");
        assertLoginFails(sasl("SASL_SSL", "SCRAM-SHA-512", "mallory", "anything"), "SCRAM-SHA-512");
        // bob has a SCRAM-SHA-256 credential only
        assertLoginFails(sasl("SASL_PLAINTEXT", "SCRAM-SHA-512", "bob", "bob-secret"), "SCRAM-SHA-512");
        assertLoginFails(sasl("SASL_SSL", "PLAIN", "carol", "nope"), "PLAIN");
        assertThat(logEnd()).isEqualTo(before);
        assertThat(counter("capstan_authentication_failures", "SCRAM-SHA-512")).isGreaterThanOrEqualTo(3);
        assertThat(counter("capstan_authentication_failures", "PLAIN")).isGreaterThanOrEqualTo(1);
    }

    private void assertLoginFails(Properties p, String mechanism) {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>("orders", "k", "v")).get())
                    .satisfiesAnyOf(
                            e -> assertThat(e).isInstanceOf(SaslAuthenticationException.class),
                            e -> assertThat(e).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(SaslAuthenticationException.class))
                    .hasMessageContaining("Authentication failed during authentication due to invalid credentials with SASL mechanism " + mechanism);
        }
    }

    @Test
    void nothingButTheSaslExchangeIsAnsweredBeforeAuthentication() throws Exception {
        try (RawKafkaConnection c = new RawKafkaConnection(broker.broker().port("SASL_PLAINTEXT"))) {
            c.sendRaw(RawKafkaConnection.frameBody(ApiKeys.METADATA, (short) 12, 1, new MetadataRequestData().setTopics(null)));
            assertThat(c.closedByBroker()).isTrue();
        }
        try (RawKafkaConnection c = new RawKafkaConnection(broker.broker().port("SASL_PLAINTEXT"))) {
            // a 1 MiB frame announced before authentication is refused on its length alone (limit 512 KiB)
            c.sendBytes(ByteBuffer.allocate(4).putInt(1 << 20).array());
            assertThat(c.closedByBroker()).isTrue();
        }
        try (RawKafkaConnection c = new RawKafkaConnection(broker.broker().port("SASL_PLAINTEXT"))) {
            SaslHandshakeResponseData r = c.send(ApiKeys.SASL_HANDSHAKE, (short) 1, new SaslHandshakeRequestData().setMechanism("GSSAPI"));
            assertThat(Errors.forCode(r.errorCode())).isEqualTo(Errors.UNSUPPORTED_SASL_MECHANISM);
            assertThat(r.mechanisms()).containsExactly("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN");
            assertThat(c.closedByBroker()).isTrue();
        }
        try (RawKafkaConnection c = new RawKafkaConnection(broker.broker().port("PLAINTEXT"))) {
            SaslHandshakeResponseData r = c.send(ApiKeys.SASL_HANDSHAKE, (short) 1, new SaslHandshakeRequestData().setMechanism("PLAIN"));
            assertThat(Errors.forCode(r.errorCode())).as("no SASL on a PLAINTEXT listener").isEqualTo(Errors.ILLEGAL_SASL_STATE);
        }
    }

    @Test
    void clientsReauthenticateBeforeTheirSessionEndsAndARemovedUserIsCutOff() throws Exception {
        Properties p = sasl("SASL_SSL", "SCRAM-SHA-512", "alice", "alice-secret");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>("orders", "k", "first")).get();
            double logins = counter("capstan_authentications", "SCRAM-SHA-512");
            // sessions last 1.5 s: the producer re-authenticates over its connections and goes on working
            Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
                producer.send(new ProducerRecord<>("orders", "k", "more")).get();
                assertThat(counter("capstan_authentications", "SCRAM-SHA-512")).isGreaterThanOrEqualTo(logins + 2);
            });
            double failures = counter("capstan_authentication_failures", "SCRAM-SHA-512");
            try (Admin admin = Admin.create(plain())) {
                admin.alterUserScramCredentials(List.of(new UserScramCredentialDeletion("alice", ScramMechanism.SCRAM_SHA_512))).all().get();
            }
            // the open session lives until it must re-authenticate, which now fails: sends stop being accepted
            long removedAt = System.nanoTime();
            int[] sent = {0};
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
                try {
                    producer.send(new ProducerRecord<>("orders", "k", "after removal " + ++sent[0])).get(5, java.util.concurrent.TimeUnit.SECONDS);
                    return false;
                } catch (ExecutionException | java.util.concurrent.TimeoutException refused) {
                    return true;
                }
            });
            long cutOffMs = (System.nanoTime() - removedAt) / 1_000_000;
            assertThat(cutOffMs).as("cut off within the 1.5 s session plus one 5 s send").isLessThan(8_000);
            assertThat(counter("capstan_authentication_failures", "SCRAM-SHA-512")).isGreaterThan(failures);
            producer.close(Duration.ZERO);
            String refused = "after removal " + sent[0];
            assertThat(TestBroker.readFromStart(plain(), "orders", 1, (int) logEnd())).noneMatch(r -> r.value().equals(refused));
        }
        // and a new client with the removed credentials is refused outright
        assertLoginFails(sasl("SASL_SSL", "SCRAM-SHA-512", "alice", "alice-secret"), "SCRAM-SHA-512");
    }
}
