package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jose4j.jwk.JsonWebKeySet;
import org.jose4j.jwk.RsaJsonWebKey;
import org.jose4j.jwk.RsaJwkGenerator;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OAUTHBEARER with kafka-clients' own login handler reading a JWT this test signs: the token's subject is the
 * principal ACLs apply to; expired, wrongly signed, wrong-issuer and wrong-audience tokens are refused, writing nothing.
 */
class OAuthBearerTest {
    static final String ALLOWED_URLS = "org.apache.kafka.sasl.oauthbearer.allowed.urls";

    @TempDir
    Path dir;
    TestBroker broker;
    RsaJsonWebKey issuerKey;

    @AfterAll
    static void clearAllowedUrls() {
        System.clearProperty(ALLOWED_URLS);
    }

    @BeforeEach
    void start() throws Exception {
        issuerKey = RsaJwkGenerator.generateJwk(2048);
        issuerKey.setKeyId("key-1");
        Path jwks = dir.resolve("jwks.json");
        Files.writeString(jwks, new JsonWebKeySet(issuerKey).toJson());
        Map<String, String> s = new HashMap<>();
        s.put("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0");
        s.put("sasl.enabled.mechanisms", "OAUTHBEARER");
        s.put("sasl.oauthbearer.jwks.endpoint.url", jwks.toUri().toString());
        s.put("sasl.oauthbearer.expected.issuer", "https://issuer.example");
        s.put("sasl.oauthbearer.expected.audience", "capstan");
        s.put("authorizer.class.name", "capstan");
        s.put("allow.everyone.if.no.acl.found", "false");
        s.put("super.users", "User:ANONYMOUS");
        broker = new TestBroker(dir.resolve("data"), s);
        Properties admin = new Properties();
        admin.put("bootstrap.servers", broker.bootstrap("PLAINTEXT"));
        try (Admin a = Admin.create(admin)) {
            a.createTopics(List.of(new NewTopic("events", 1, (short) 1))).all().get();
            a.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.TOPIC, "events", PatternType.LITERAL),
                    new AccessControlEntry("User:service-a", "*", AclOperation.WRITE, AclPermissionType.ALLOW)))).all().get();
        }
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private String token(RsaJsonWebKey key, String subject, String issuer, String audience, float minutesToExpiry) throws Exception {
        JwtClaims claims = new JwtClaims();
        claims.setIssuer(issuer);
        claims.setAudience(audience);
        claims.setSubject(subject);
        claims.setIssuedAtToNow();
        NumericDate exp = NumericDate.now();
        exp.addSeconds((long) (minutesToExpiry * 60));
        claims.setExpirationTime(exp);
        claims.setClaim("scope", "kafka");
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(claims.toJson());
        jws.setKey(key.getPrivateKey());
        jws.setKeyIdHeaderValue(key.getKeyId());
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.RSA_USING_SHA256);
        return jws.getCompactSerialization();
    }

    private Properties client(String jwt) throws Exception {
        Path file = Files.createTempFile(dir, "token", ".jwt");
        Files.writeString(file, jwt);
        // kafka-clients 4 reads a token only from a URL listed in this system property
        String allowed = System.getProperty(ALLOWED_URLS);
        System.setProperty(ALLOWED_URLS, (allowed == null ? "" : allowed + ",") + file.toUri());
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrap("SASL_PLAINTEXT"));
        p.put("security.protocol", "SASL_PLAINTEXT");
        p.put("sasl.mechanism", "OAUTHBEARER");
        p.put("sasl.login.callback.handler.class", "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler");
        p.put("sasl.oauthbearer.token.endpoint.url", file.toUri().toString());
        p.put("sasl.jaas.config", "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;");
        p.put("max.block.ms", "10000");
        return p;
    }

    private long logEnd() {
        return broker.broker().logs().catalog().shard(new TopicPartition("events", 0)).logEnd();
    }

    @Test
    void aValidTokenAuthenticatesItsSubject() throws Exception {
        try (KafkaProducer<String, String> p = new KafkaProducer<>(client(token(issuerKey, "service-a", "https://issuer.example", "capstan", 10)),
                new StringSerializer(), new StringSerializer())) {
            assertThat(p.send(new ProducerRecord<>("events", "k", "v")).get().offset()).isZero();
        }
        // the same issuer, another subject: authenticated, but the ACL is service-a's
        try (KafkaProducer<String, String> p = new KafkaProducer<>(client(token(issuerKey, "service-b", "https://issuer.example", "capstan", 10)),
                new StringSerializer(), new StringSerializer())) {
            assertThatThrownBy(() -> p.send(new ProducerRecord<>("events", "k", "v")).get())
                    .hasCauseInstanceOf(org.apache.kafka.common.errors.TopicAuthorizationException.class);
        }
        assertThat(logEnd()).isEqualTo(1);
    }

    @Test
    void badTokensAreRefusedAndWriteNothing() throws Exception {
        RsaJsonWebKey stranger = RsaJwkGenerator.generateJwk(2048);
        stranger.setKeyId("key-1");
        Map<String, String> bad = Map.of(
                "signed by another key", token(stranger, "service-a", "https://issuer.example", "capstan", 10),
                "from another issuer", token(issuerKey, "service-a", "https://evil.example", "capstan", 10),
                "for another audience", token(issuerKey, "service-a", "https://issuer.example", "someone-else", 10),
                "expired", token(issuerKey, "service-a", "https://issuer.example", "capstan", -5));
        for (var entry : bad.entrySet()) {
            Properties p;
            try {
                p = client(entry.getValue());
            } catch (Exception e) {
                throw new AssertionError(entry.getKey(), e);
            }
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
                assertThatThrownBy(() -> producer.send(new ProducerRecord<>("events", "k", "v")).get()).as(entry.getKey())
                        .satisfiesAnyOf(
                                e -> assertThat(e).isInstanceOf(SaslAuthenticationException.class),
                                e -> assertThat(e).hasCauseInstanceOf(SaslAuthenticationException.class));
            } catch (org.apache.kafka.common.KafkaException clientRefused) {
                assertThat(entry.getKey()).as("only an expired token may be refused by the client itself").isEqualTo("expired");
            }
        }
        assertThat(logEnd()).isZero();
    }
}
