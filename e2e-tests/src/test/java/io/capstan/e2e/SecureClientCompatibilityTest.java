package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.capstan.broker.Broker;
import io.capstan.config.BrokerConfig;
import io.capstan.certs.CertificateAuthority;
import io.capstan.certs.IssuedCertificate;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients from other codebases against a secured broker: librdkafka (kcat) over SASL_SSL with SCRAM-SHA-512 and
 * over mTLS, confluent-kafka for Python and franz-go over SCRAM on TLS, and Apache Kafka's own kafka-configs and
 * kafka-acls managing users and ACLs. Every record each client writes is read back by that client and counted again
 * with the Java client. CI sets CAPSTAN_REQUIRE_CLIENTS / CAPSTAN_REQUIRE_KCAT so nothing here can skip there.
 */
class SecureClientCompatibilityTest {
    static final int COUNT = 500;

    @TempDir
    Path dir;
    Broker broker;
    Path ca;

    @BeforeEach
    void start() throws Exception {
        CertificateAuthority authority = CertificateAuthority.create("e2e-ca", Duration.ofDays(1));
        IssuedCertificate brokerCert = authority.issue(CertificateAuthority.Request.of("CN=capstan-broker", Duration.ofDays(1))
                .withIps("127.0.0.1").withDns("localhost"));
        brokerCert.writeKeyAndChainPem(dir.resolve("broker.pem"));
        brokerCert.writeCaPem(dir.resolve("ca.pem"));
        IssuedCertificate alice = authority.issue(CertificateAuthority.Request.of("CN=alice,O=clients", Duration.ofDays(1)));
        alice.writeCertificatePem(dir.resolve("alice.crt"));
        alice.writeKeyPem(dir.resolve("alice.key"));
        ca = dir.resolve("ca.pem");
        Map<String, String> s = new HashMap<>();
        s.put("data.dir", dir.resolve("data").toString());
        s.put("admin.port", "-1");
        s.put("disk.min.free.bytes", "0");
        s.put("listeners", "SASL_SSL://127.0.0.1:0,MTLS://127.0.0.1:0");
        s.put("listener.security.protocol.map", "SASL_SSL:SASL_SSL,MTLS:SSL");
        s.put("listener.name.mtls.ssl.client.auth", "required");
        s.put("ssl.keystore.type", "PEM");
        s.put("ssl.keystore.location", dir.resolve("broker.pem").toString());
        s.put("ssl.truststore.type", "PEM");
        s.put("ssl.truststore.location", ca.toString());
        s.put("sasl.enabled.mechanisms", "SCRAM-SHA-512,SCRAM-SHA-256");
        s.put("authorizer.class.name", "capstan");
        s.put("super.users", "User:admin;User:CN=alice,O=clients");
        broker = new Broker(BrokerConfig.from(s), s);
        broker.scramCredentials().upsertPassword("admin", ScramMechanism.SCRAM_SHA_512, "admin-secret", 8192);
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private String saslBootstrap() {
        return "127.0.0.1:" + broker.port("SASL_SSL");
    }

    private Properties java(String user) {
        Properties p = new Properties();
        p.put("bootstrap.servers", saslBootstrap());
        p.put("security.protocol", "SASL_SSL");
        p.put("sasl.mechanism", "SCRAM-SHA-512");
        p.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user
                + "\" password=\"" + user + "-secret\";");
        p.put("ssl.truststore.type", "PEM");
        p.put("ssl.truststore.location", ca.toString());
        p.put("max.block.ms", "15000");
        return p;
    }

    private List<String> kcatSasl() {
        return List.of("kcat", "-b", saslBootstrap(), "-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=SCRAM-SHA-512",
                "-X", "sasl.username=admin", "-X", "sasl.password=admin-secret", "-X", "ssl.ca.location=" + ca);
    }

    @Test
    void kcatOverSaslSslWithScram() throws Exception {
        require("kcat", List.of("kcat", "-V"), "apt-get install kcat");
        createTopic("kcat-scram", 1);
        StringBuilder input = new StringBuilder();
        for (int i = 0; i < COUNT; i++) {
            input.append('k').append(i).append(':').append('v').append(i).append('\n');
        }
        List<String> produce = new ArrayList<>(kcatSasl());
        produce.addAll(List.of("-P", "-t", "kcat-scram", "-K:", "-X", "enable.idempotence=true", "-X", "acks=all"));
        run(produce, input.toString());
        List<String> consume = new ArrayList<>(kcatSasl());
        consume.addAll(List.of("-C", "-t", "kcat-scram", "-o", "beginning", "-e", "-q", "-f", "%k=%s\\n"));
        List<String> lines = run(consume, "").lines().filter(l -> l.startsWith("k")).toList();
        assertThat(lines).hasSize(COUNT);
        for (int i = 0; i < COUNT; i++) {
            assertThat(lines.get(i)).isEqualTo("k" + i + "=v" + i);
        }
        assertStored("kcat-scram", 1, COUNT);
    }

    @Test
    void kcatOverMutualTls() throws Exception {
        require("kcat", List.of("kcat", "-V"), "apt-get install kcat");
        List<String> mtls = List.of("kcat", "-b", "127.0.0.1:" + broker.port("MTLS"), "-X", "security.protocol=SSL",
                "-X", "ssl.ca.location=" + ca, "-X", "ssl.certificate.location=" + dir.resolve("alice.crt"),
                "-X", "ssl.key.location=" + dir.resolve("alice.key"));
        createTopic("kcat-mtls", 1);
        List<String> produce = new ArrayList<>(mtls);
        produce.addAll(List.of("-P", "-t", "kcat-mtls"));
        StringBuilder input = new StringBuilder();
        for (int i = 0; i < COUNT; i++) {
            input.append("m").append(i).append('\n');
        }
        run(produce, input.toString());
        List<String> meta = new ArrayList<>(mtls);
        meta.add("-L");
        assertThat(run(meta, "")).contains("topic \"kcat-mtls\" with 1 partitions");
        assertStored("kcat-mtls", 1, COUNT);
        // without a client certificate the mTLS listener refuses librdkafka
        List<String> noCert = List.of("kcat", "-b", "127.0.0.1:" + broker.port("MTLS"), "-X", "security.protocol=SSL",
                "-X", "ssl.ca.location=" + ca, "-m", "5", "-L");
        assertThat(exit(noCert)).isNotZero();
    }

    @Test
    void confluentKafkaPythonOverScramTls() throws Exception {
        require("clients", List.of("python3", "-c", "import confluent_kafka"), "pip install confluent-kafka");
        String config = "{\"security.protocol\":\"SASL_SSL\",\"sasl.mechanisms\":\"SCRAM-SHA-512\",\"sasl.username\":\"admin\","
                + "\"sasl.password\":\"admin-secret\",\"ssl.ca.location\":\"" + ca + "\"}";
        String out = run(List.of("python3", "src/test/python/compat_client.py", saslBootstrap(), "python-scram", String.valueOf(COUNT), "group"),
                "", Map.of("CAPSTAN_CLIENT_CONFIG", config), Path.of("."));
        assertThat(out).contains("OK " + COUNT);
        assertStored("python-scram", 2, COUNT);
    }

    @Test
    void franzGoOverScramTls() throws Exception {
        require("clients", List.of("go", "version"), "install Go");
        Path binary = Path.of("target", "compat-go").toAbsolutePath();
        run(List.of("go", "build", "-o", binary.toString(), "."), "", Map.of(), Path.of("src", "test", "go", "compat"));
        String out = run(List.of(binary.toString(), saslBootstrap(), "franz-scram", String.valueOf(COUNT)), "",
                Map.of("CAPSTAN_CA_FILE", ca.toString(), "CAPSTAN_SASL_USER", "admin", "CAPSTAN_SASL_PASSWORD", "admin-secret"), Path.of("."));
        assertThat(out).contains("OK " + COUNT);
        assertStored("franz-scram", 2, COUNT);
    }

    @Test
    void kafkasOwnToolsManageUsersQuotasAndAcls() throws Exception {
        Path lib = Path.of("..", "bench", "kafka-dist", "target", "lib");
        assertThat(lib.resolve("kafka-tools-4.4.0.jar")).as("Apache Kafka's tools, assembled by bench/kafka-dist").exists();
        Path adminConfig = dir.resolve("admin.properties");
        Files.writeString(adminConfig, "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
                + "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"admin-secret\";\n"
                + "ssl.truststore.type=PEM\nssl.truststore.location=" + ca + "\n");
        createTopic("tools", 1);
        String configs = tool(lib, "org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", saslBootstrap(), "--command-config",
                adminConfig.toString(), "--alter", "--add-config", "SCRAM-SHA-512=[iterations=8192,password=bob-secret]",
                "--entity-type", "users", "--entity-name", "bob");
        assertThat(configs).contains("Completed updating config for user bob");
        assertThat(tool(lib, "org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", saslBootstrap(), "--command-config",
                adminConfig.toString(), "--describe", "--entity-type", "users", "--entity-name", "bob"))
                .contains("SCRAM-SHA-512=iterations=8192");
        assertThat(tool(lib, "org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", saslBootstrap(), "--command-config",
                adminConfig.toString(), "--alter", "--add-config", "producer_byte_rate=1048576,consumer_byte_rate=2097152",
                "--entity-type", "users", "--entity-name", "bob")).contains("Completed updating config for user bob");
        assertThat(tool(lib, "org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", saslBootstrap(), "--command-config",
                adminConfig.toString(), "--describe", "--entity-type", "users", "--entity-name", "bob"))
                .contains("producer_byte_rate=1048576.0").contains("consumer_byte_rate=2097152.0");
        assertThat(tool(lib, "org.apache.kafka.tools.AclCommand", "--bootstrap-server", saslBootstrap(), "--command-config",
                adminConfig.toString(), "--add", "--allow-principal", "User:bob", "--producer", "--topic", "tools"))
                .contains("User:bob");
        assertThat(tool(lib, "org.apache.kafka.tools.AclCommand", "--bootstrap-server", saslBootstrap(), "--command-config",
                adminConfig.toString(), "--list", "--topic", "tools"))
                .contains("principal=User:bob").contains("operation=WRITE").contains("operation=CREATE");
        try (KafkaProducer<String, String> bob = new KafkaProducer<>(java("bob"), new StringSerializer(), new StringSerializer())) {
            assertThat(bob.send(new ProducerRecord<>("tools", "k", "v")).get().offset()).isZero();
        }
        tool(lib, "org.apache.kafka.tools.AclCommand", "--bootstrap-server", saslBootstrap(), "--command-config", adminConfig.toString(),
                "--remove", "--force", "--allow-principal", "User:bob", "--producer", "--topic", "tools");
        try (Admin admin = Admin.create(java("admin"))) {
            assertThat(admin.describeAcls(AclBindingFilter.ANY).values().get()).noneMatch(a -> a.entry().principal().equals("User:bob"));
        }
        try (KafkaProducer<String, String> bob = new KafkaProducer<>(java("bob"), new StringSerializer(), new StringSerializer())) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> bob.send(new ProducerRecord<>("tools", "k", "v")).get())
                    .hasCauseInstanceOf(TopicAuthorizationException.class);
        }
        assertStored("tools", 1, 1);
    }

    private String tool(Path lib, String mainClass, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", lib.toAbsolutePath() + File.separator + "*", mainClass));
        cmd.addAll(List.of(args));
        return run(cmd, "", Map.of(), Path.of("."));
    }

    private void createTopic(String name, int partitions) throws Exception {
        try (Admin admin = Admin.create(java("admin"))) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
        }
    }

    private void assertStored(String topic, int partitions, long count) {
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(java("admin"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                tps.add(new TopicPartition(topic, p));
            }
            long total = c.endOffsets(tps).values().stream().mapToLong(Long::longValue).sum();
            assertThat(total).as("records stored exactly once in " + topic).isEqualTo(count);
        }
    }

    private static void require(String kind, List<String> probe, String howToInstall) {
        boolean present = exit(probe) == 0;
        String env = kind.equals("kcat") ? "CAPSTAN_REQUIRE_KCAT" : "CAPSTAN_REQUIRE_CLIENTS";
        if ("1".equals(System.getenv(env))) {
            assertThat(present).as("client prerequisite missing: " + howToInstall).isTrue();
        }
        assumeTrue(present, "skipped: " + howToInstall);
    }

    private static int exit(List<String> cmd) {
        return Commands.exitCode(cmd);
    }

    private static String run(List<String> cmd, String input) throws Exception {
        return Commands.run(cmd, input, Map.of(), Path.of("."));
    }

    private static String run(List<String> cmd, String input, Map<String, String> env, Path workDir) throws Exception {
        return Commands.run(cmd, input, env, workDir);
    }
}
