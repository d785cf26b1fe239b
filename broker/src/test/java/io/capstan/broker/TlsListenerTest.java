package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.certs.CertificateAuthority;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS listeners with real kafka-clients: mTLS with PKCS12 and PEM material, each way a client certificate can be
 * wrong, protocol mix-ups in both directions, TLS 1.2 and 1.3, and certificates rotated without a restart.
 */
class TlsListenerTest {
    @TempDir
    Path dir;
    @TempDir
    Path certs;
    TestBroker broker;
    TlsMaterial tls;

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private void start(Map<String, String> extra) {
        tls = new TlsMaterial(certs);
        Map<String, String> s = new HashMap<>(tls.brokerSsl());
        s.put("listeners", "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0");
        s.put("ssl.client.auth", "required");
        s.putAll(extra);
        broker = new TestBroker(dir, s);
    }

    private Properties sslClient(Path keystore) {
        Properties p = tls.clientSsl(keystore);
        p.put("bootstrap.servers", broker.bootstrap("SSL"));
        p.put("security.protocol", "SSL");
        p.put("request.timeout.ms", "10000");
        p.put("default.api.timeout.ms", "15000");
        p.put("reconnect.backoff.max.ms", "1000");
        return p;
    }

    private long logEnd(String topic) {
        var shard = broker.broker().logs().catalog().shard(new TopicPartition(topic, 0));
        return shard == null ? -1 : shard.logEnd();
    }

    @Test
    void mutualTlsClientsProduceAndConsumeEveryRecord() throws Exception {
        start(Map.of());
        Properties p = sslClient(tls.client("alice", "CN=alice,O=clients"));
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(List.of(new NewTopic("secure", 1, (short) 1))).all().get();
            // the SSL listener advertises its own address, not the PLAINTEXT one
            assertThat(admin.describeCluster().nodes().get()).extracting(n -> n.port()).containsExactly(broker.broker().port("SSL"));
        }
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 500; i++) {
                producer.send(new ProducerRecord<>("secure", "k" + i, "v" + i));
            }
            producer.flush();
        }
        Properties c = sslClient(tls.client("bob", "CN=bob,O=clients"));
        var records = TestBroker.readFromStart(c, "secure", 1, 500);
        assertThat(records).hasSize(500);
        for (int i = 0; i < 500; i++) {
            assertThat(records.get(i).offset()).isEqualTo(i);
            assertThat(records.get(i).key()).isEqualTo("k" + i);
            assertThat(records.get(i).value()).isEqualTo("v" + i);
        }
    }

    @Test
    void requestedClientAuthLetsClientsWithoutACertificateInAsAnonymousAndNamesThoseWithOne() throws Exception {
        start(Map.of("ssl.client.auth", "requested", "authorizer.class.name", "capstan", "super.users", "User:CN=alice,O=clients"));
        try (Admin anonymous = Admin.create(sslClient(null))) {
            // the connection is accepted without a certificate, as User:ANONYMOUS, who may do nothing here
            assertThatThrownBy(() -> anonymous.createTopics(List.of(new NewTopic("by-anonymous", 1, (short) 1))).all().get())
                    .hasCauseInstanceOf(org.apache.kafka.common.errors.TopicAuthorizationException.class);
        }
        try (Admin alice = Admin.create(sslClient(tls.client("alice", "CN=alice,O=clients")))) {
            alice.createTopics(List.of(new NewTopic("by-alice", 1, (short) 1))).all().get();
        }
        assertThat(broker.broker().logs().catalog().topic("by-anonymous")).isNull();
        assertThat(broker.broker().logs().catalog().topic("by-alice")).isNotNull();
    }

    @Test
    void pemKeyAndTrustStoresWork() throws Exception {
        start(Map.of("ssl.keystore.type", "PEM", "ssl.keystore.location", certs.resolve("broker.pem").toString(),
                "ssl.keystore.password", "", "ssl.truststore.type", "PEM", "ssl.truststore.location", certs.resolve("ca.pem").toString(),
                "ssl.truststore.password", ""));
        Properties p = sslClient(tls.client("alice", "CN=alice"));
        p.put("ssl.truststore.type", "PEM");
        p.put("ssl.truststore.location", certs.resolve("ca.pem").toString());
        p.remove("ssl.truststore.password");
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(List.of(new NewTopic("pem", 1, (short) 1))).all().get();
        }
        assertThat(logEnd("pem")).isZero();
    }

    @Test
    void aClientWithoutAValidCertificateIsRefusedAndWritesNothing() throws Exception {
        start(Map.of());
        try (Admin admin = Admin.create(sslClient(tls.client("alice", "CN=alice")))) {
            admin.createTopics(List.of(new NewTopic("guarded", 1, (short) 1))).all().get();
        }
        Map<String, Path> bad = Map.of(
                "expired", tls.expiredClient("old", "CN=old"),
                "signed by another CA", tls.clientOfOtherCa("stranger", "CN=stranger"),
                "self-signed", tls.selfSignedClient("selfie"));
        for (var entry : bad.entrySet()) {
            assertRefused(sslClient(entry.getValue()), entry.getKey());
        }
        assertRefused(sslClient(null), "no certificate");
        assertThat(logEnd("guarded")).as("nothing was written by a refused client").isZero();
    }

    private void assertRefused(Properties p, String why) {
        p.put("max.block.ms", "10000");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>("guarded", "k", "v")).get())
                    .as(why)
                    .satisfiesAnyOf(
                            e -> assertThat(e).isInstanceOf(SslAuthenticationException.class),
                            e -> assertThat(e).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(SslAuthenticationException.class));
        }
    }

    @Test
    void aPlaintextClientOnTheTlsPortIsClosedAtOnce() throws Exception {
        start(Map.of());
        try (RawKafkaConnection c = new RawKafkaConnection(broker.broker().port("SSL"))) {
            c.sendRaw(RawKafkaConnection.frameBody(ApiKeys.API_VERSIONS, (short) 3, 1,
                    new ApiVersionsRequestData().setClientSoftwareName("raw").setClientSoftwareVersion("1")));
            assertThat(c.closedByBroker()).as("closed, not waiting for more bytes").isTrue();
        }
        assertThat(counter("capstan_authentication_failures")).isEqualTo(1.0);
    }

    @Test
    void aTlsClientOnThePlaintextPortIsClosedWithoutReadingAHugeFrame() throws Exception {
        start(Map.of());
        SSLContext context = trustingContext();
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", broker.broker().port("PLAINTEXT"))) {
            socket.setSoTimeout(10_000);
            assertThatThrownBy(socket::startHandshake).isInstanceOf(IOException.class);
        }
        assertThat(counter("capstan_rejected_frames")).as("refused as a TLS handshake, once").isEqualTo(1.0);
        // and the plaintext listener still serves
        try (RawKafkaConnection c = new RawKafkaConnection(broker.broker().port("PLAINTEXT"))) {
            var response = c.send(ApiKeys.API_VERSIONS, (short) 3, new ApiVersionsRequestData().setClientSoftwareName("raw").setClientSoftwareVersion("1"));
            assertThat(response).isNotNull();
        }
    }

    @Test
    void tls12AndTls13AreBothSpokenAndOlderVersionsAreNot() throws Exception {
        start(Map.of("ssl.client.auth", "none"));
        for (String version : List.of("TLSv1.2", "TLSv1.3")) {
            try (SSLSocket socket = (SSLSocket) trustingContext().getSocketFactory().createSocket("127.0.0.1", broker.broker().port("SSL"))) {
                socket.setEnabledProtocols(new String[] {version});
                socket.startHandshake();
                assertThat(socket.getSession().getProtocol()).isEqualTo(version);
            }
        }
        // this JVM will not even offer TLS 1.1, so ask openssl, which will: the broker must answer "protocol version"
        boolean opensslPresent;
        try {
            opensslPresent = new ProcessBuilder("openssl", "version").start().waitFor() == 0;
        } catch (IOException missing) {
            opensslPresent = false;
        }
        if ("1".equals(System.getenv("CAPSTAN_REQUIRE_CLIENTS"))) {
            assertThat(opensslPresent).as("openssl must be installed").isTrue();
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(opensslPresent, "openssl is not installed");
        Process client = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + broker.broker().port("SSL"),
                "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0").redirectErrorStream(true).start();
        client.getOutputStream().close();
        String out = new String(client.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(client.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(out).as("openssl offering only TLS 1.1").contains("alert protocol version").contains("Cipher is (NONE)");
    }

    /** The served certificate, and the expiry the metrics report (capstan_tls_certificate_expiry_timestamp_seconds), follow a rotation. */
    @Test
    void aNewBrokerCertificateIsServedWithoutARestart() throws Exception {
        start(Map.of("ssl.client.auth", "none"));
        BigInteger before = servedCertificate().getSerialNumber();
        assertThat(expiryGauge("SSL")).isEqualTo(servedCertificate().getNotAfter().getTime() / 1000.0);
        tls.ca.issue(CertificateAuthority.Request.of("CN=broker-0-renewed,O=capstan", Duration.ofDays(2)).withIps("127.0.0.1"))
                .writePkcs12(certs.resolve("broker.p12"), "broker", TlsMaterial.PASSWORD.toCharArray());
        Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(servedCertificate().getSubjectX500Principal().getName()).isEqualTo("CN=broker-0-renewed,O=capstan"));
        assertThat(servedCertificate().getSerialNumber()).isNotEqualTo(before);
        assertThat(expiryGauge("SSL")).as("the renewed certificate's expiry, a day later than the first's")
                .isEqualTo(servedCertificate().getNotAfter().getTime() / 1000.0);
        assertThat(broker.broker().metrics().registry().scrape().stream()
                .filter(m -> m.getMetadata().getName().equals("capstan_tls_certificate_expiry_timestamp_seconds"))
                .flatMap(m -> m.getDataPoints().stream()).map(d -> d.getLabels().get("listener")).toList())
                .as("only TLS listeners have a certificate").containsExactly("SSL");
        // clients still connect and work over the new certificate
        try (Admin admin = Admin.create(sslClient(null))) {
            admin.createTopics(List.of(new NewTopic("after-rotation", 1, (short) 1))).all().get();
        }
    }

    private double expiryGauge(String listener) {
        return broker.broker().metrics().registry().scrape().stream()
                .filter(m -> m.getMetadata().getName().equals("capstan_tls_certificate_expiry_timestamp_seconds"))
                .flatMap(m -> ((io.prometheus.metrics.model.snapshots.GaugeSnapshot) m).getDataPoints().stream())
                .filter(d -> listener.equals(d.getLabels().get("listener"))).mapToDouble(d -> d.getValue()).findFirst().orElseThrow();
    }

    private double counter(String name) {
        return broker.broker().metrics().registry().scrape().stream().filter(m -> m.getMetadata().getName().equals(name))
                .flatMap(m -> ((io.prometheus.metrics.model.snapshots.CounterSnapshot) m).getDataPoints().stream())
                .mapToDouble(d -> d.getValue()).sum();
    }

    private X509Certificate servedCertificate() throws Exception {
        try (SSLSocket socket = (SSLSocket) trustingContext().getSocketFactory().createSocket("127.0.0.1", broker.broker().port("SSL"))) {
            socket.startHandshake();
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }
    }

    private SSLContext trustingContext() throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (InputStream in = java.nio.file.Files.newInputStream(certs.resolve("truststore.p12"))) {
            trust.load(in, TlsMaterial.PASSWORD.toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }
}
