package io.capstan.certs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class PemTest {
    @Test
    void whatIsWrittenReadsBackAndALoadedCaIssuesCertificatesItsOwnCertificateVerifies() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("test-ca", Duration.ofDays(1));
        IssuedCertificate caFiles = ca.asIssued();
        CertificateAuthority loaded = CertificateAuthority.of(Pem.certificate(caFiles.certificatePem()), Pem.privateKey(caFiles.keyPem()));
        IssuedCertificate leaf = loaded.issue(CertificateAuthority.Request.of("CN=broker", Duration.ofHours(1)).withDns("b.example"));
        leaf.certificate().verify(ca.certificate().getPublicKey());
        assertThat(Pem.certificates(leaf.keyAndChainPem())).containsExactly(leaf.certificate(), ca.certificate());
        assertThat(Pem.privateKey(leaf.keyAndChainPem())).isEqualTo(leaf.key());
        CertificateAuthority other = CertificateAuthority.create("other-ca", Duration.ofDays(1));
        assertThat(Pem.certificates(Pem.bundle(List.of(ca.certificate(), other.certificate())))).containsExactly(ca.certificate(), other.certificate());
    }

    @Test
    void aLeafIsNoCaAndTextWithoutPemIsNamedAsSuch() {
        IssuedCertificate leaf = CertificateAuthority.create("test-ca", Duration.ofDays(1)).issue(CertificateAuthority.Request.of("CN=x", Duration.ofHours(1)));
        assertThatThrownBy(() -> CertificateAuthority.of(leaf.certificate(), leaf.key())).hasMessageContaining("not a CA");
        assertThatThrownBy(() -> Pem.certificate("hello")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Pem.privateKey(leaf.certificatePem())).hasMessageContaining("no unencrypted PKCS#8 private key");
    }
}
