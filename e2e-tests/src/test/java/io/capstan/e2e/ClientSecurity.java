package io.capstan.e2e;

import io.capstan.broker.security.ScramCredentialStore;
import io.capstan.certs.CertificateAuthority;
import io.capstan.certs.IssuedCertificate;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;

/**
 * How the fault tests' brokers and clients talk: in the clear, or SASL_SSL on every listener, replication included
 * (SCRAM-SHA-512 over TLS with certificates from a test CA, ACLs on, the brokers' own user a super user).
 */
final class ClientSecurity {
    static final ClientSecurity NONE = new ClientSecurity(null);

    private final Path dir;

    private ClientSecurity(Path dir) {
        this.dir = dir;
    }

    /** SASL_SSL everywhere, with key material written under {@code dir}. */
    static ClientSecurity saslSsl(Path dir) {
        CertificateAuthority ca = CertificateAuthority.create("fault-test-ca", Duration.ofDays(1));
        IssuedCertificate broker = ca.issue(CertificateAuthority.Request.of("CN=capstan-broker", Duration.ofDays(1))
                .withIps("127.0.0.1").withDns("localhost"));
        broker.writeKeyAndChainPem(dir.resolve("broker.pem"));
        broker.writeCaPem(dir.resolve("ca.pem"));
        return new ClientSecurity(dir);
    }

    boolean secured() {
        return dir != null;
    }

    String name() {
        return secured() ? "SASL_SSL" : "PLAINTEXT";
    }

    /** Broker settings; the listener's port is BrokerProcess's {port}. */
    Map<String, String> brokerSettings() {
        Map<String, String> s = new HashMap<>();
        if (!secured()) {
            return s;
        }
        s.put("listeners", "SASL_SSL://127.0.0.1:{port}");
        s.put("sasl.enabled.mechanisms", "SCRAM-SHA-512");
        s.put("ssl.keystore.type", "PEM");
        s.put("ssl.keystore.location", dir.resolve("broker.pem").toString());
        s.put("ssl.truststore.type", "PEM");
        s.put("ssl.truststore.location", dir.resolve("ca.pem").toString());
        s.put("inter.broker.sasl.username", "broker");
        s.put("inter.broker.sasl.password", "broker-secret");
        s.put("authorizer.class.name", "capstan");
        s.put("super.users", "User:broker;User:admin");
        return s;
    }

    /** The broker and admin users, written into a metadata store before the brokers start. */
    void createUsers(MetadataStore store) {
        if (!secured()) {
            return;
        }
        try (ScramCredentialStore users = new ScramCredentialStore(store)) {
            users.upsertPassword("broker", ScramMechanism.SCRAM_SHA_512, "broker-secret", 4096);
            users.upsertPassword("admin", ScramMechanism.SCRAM_SHA_512, "admin-secret", 4096);
        }
    }

    /** For a broker alone: its users go into the store under its data directory. */
    void createUsers(Path dataDir) {
        if (secured()) {
            try (LocalFileMetadataStore store = new LocalFileMetadataStore(dataDir.resolve("capstan-metadata"), 1000)) {
                createUsers(store);
            }
        }
    }

    /** Client settings for the admin user. */
    Properties client(String bootstrap) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        if (secured()) {
            p.put("security.protocol", "SASL_SSL");
            p.put("sasl.mechanism", "SCRAM-SHA-512");
            p.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"admin-secret\";");
            p.put("ssl.truststore.type", "PEM");
            p.put("ssl.truststore.location", dir.resolve("ca.pem").toString());
        }
        return p;
    }

}
