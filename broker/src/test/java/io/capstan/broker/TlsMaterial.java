package io.capstan.broker;

import io.capstan.certs.CertificateAuthority;
import io.capstan.certs.IssuedCertificate;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/** A CA, a broker certificate for 127.0.0.1 and client certificates, written as PKCS12 and PEM under one directory. */
public final class TlsMaterial {
    public static final String PASSWORD = "changeit";

    final Path dir;
    final CertificateAuthority ca = CertificateAuthority.create("capstan-test-ca", Duration.ofDays(1));
    final CertificateAuthority otherCa = CertificateAuthority.create("someone-else", Duration.ofDays(1));

    public TlsMaterial(Path dir) {
        this.dir = dir;
        IssuedCertificate broker = ca.issue(CertificateAuthority.Request.of("CN=broker-0,O=capstan", Duration.ofDays(1))
                .withDns("localhost").withIps("127.0.0.1"));
        broker.writePkcs12(dir.resolve("broker.p12"), "broker", PASSWORD.toCharArray());
        broker.writeKeyAndChainPem(dir.resolve("broker.pem"));
        broker.writeTrustStorePkcs12(dir.resolve("truststore.p12"), PASSWORD.toCharArray());
        broker.writeCaPem(dir.resolve("ca.pem"));
    }

    /** A client certificate for {@code subject} signed by the test CA, as a PKCS12 file; returns its path. */
    public Path client(String name, String subject) {
        return write(name, ca.issue(CertificateAuthority.Request.of(subject, Duration.ofDays(1))));
    }

    Path expiredClient(String name, String subject) {
        Instant past = Instant.now().minus(Duration.ofDays(2));
        return write(name, ca.issue(CertificateAuthority.Request.of(subject, Duration.ofDays(1)).validBetween(past, past.plus(Duration.ofDays(1)))));
    }

    Path clientOfOtherCa(String name, String subject) {
        return write(name, otherCa.issue(CertificateAuthority.Request.of(subject, Duration.ofDays(1))));
    }

    Path selfSignedClient(String name) {
        CertificateAuthority self = CertificateAuthority.create(name, Duration.ofDays(1));
        return write(name, self.asIssued());
    }

    private Path write(String name, IssuedCertificate cert) {
        Path p = dir.resolve(name + ".p12");
        cert.writePkcs12(p, name, PASSWORD.toCharArray());
        return p;
    }

    /** Broker settings for a TLS listener using the PKCS12 key and trust stores. */
    public Map<String, String> brokerSsl() {
        Map<String, String> s = new HashMap<>();
        s.put("ssl.keystore.location", dir.resolve("broker.p12").toString());
        s.put("ssl.keystore.password", PASSWORD);
        s.put("ssl.truststore.location", dir.resolve("truststore.p12").toString());
        s.put("ssl.truststore.password", PASSWORD);
        return s;
    }

    /** Client properties trusting the test CA, optionally presenting a key store. */
    public Properties clientSsl(Path keystore) {
        Properties p = new Properties();
        p.put("ssl.truststore.location", dir.resolve("truststore.p12").toString());
        p.put("ssl.truststore.password", PASSWORD);
        p.put("ssl.truststore.type", "PKCS12");
        if (keystore != null) {
            p.put("ssl.keystore.location", keystore.toString());
            p.put("ssl.keystore.password", PASSWORD);
            p.put("ssl.keystore.type", "PKCS12");
        }
        return p;
    }
}
