package io.capstan.bench;

import io.capstan.broker.security.ScramCredentialStore;
import io.capstan.certs.CertificateAuthority;
import io.capstan.certs.IssuedCertificate;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;

/**
 * One CA and broker certificate for both brokers of the TLS comparison, and the client settings every tool uses
 * against either (SASL_SSL, SCRAM-SHA-512, the same user), so the brokers differ and nothing else.
 */
final class TlsFixture {
    static final String USER = "bench";
    static final String PASSWORD = "bench-secret";

    final Path brokerPem;
    final Path caPem;
    final Path clientConfig;

    TlsFixture(Path dir) throws IOException {
        Files.createDirectories(dir);
        CertificateAuthority ca = CertificateAuthority.create("bench-ca", Duration.ofDays(2));
        IssuedCertificate broker = ca.issue(CertificateAuthority.Request.of("CN=bench-broker", Duration.ofDays(2)).withIps("127.0.0.1"));
        brokerPem = dir.resolve("broker.pem");
        caPem = dir.resolve("ca.pem");
        broker.writeKeyAndChainPem(brokerPem);
        broker.writeCaPem(caPem);
        clientConfig = dir.resolve("client.properties");
        Files.writeString(clientConfig, "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
                + "sasl.jaas.config=" + jaas() + "\nssl.truststore.type=PEM\nssl.truststore.location=" + caPem + "\n");
    }

    static String jaas() {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + USER + "\" password=\"" + PASSWORD + "\";";
    }

    /** The bench user in a Capstan data directory's store, before the broker starts (as `capstan user create` does). */
    void createCapstanUser(Path dataDir) {
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dataDir.resolve("capstan-metadata"), 1000);
             ScramCredentialStore users = new ScramCredentialStore(store)) {
            users.upsertPassword(USER, ScramMechanism.SCRAM_SHA_512, PASSWORD, 4096);
        }
    }
}
