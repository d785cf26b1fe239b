package io.capstan.certs;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority that issues broker and client certificates (ECDSA P-256, SHA-256): TLS for a local cluster
 * ({@code capstan certs}) and for tests. Keys never leave the process except as files the caller writes.
 */
public final class CertificateAuthority {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final KeyPair keys;
    private final X509Certificate certificate;

    private CertificateAuthority(KeyPair keys, X509Certificate certificate) {
        this.keys = keys;
        this.certificate = certificate;
    }

    /** A new self-signed CA valid from now for {@code validity}. */
    public static CertificateAuthority create(String commonName, Duration validity) {
        return create(new X500Principal("CN=" + commonName), Instant.now(), validity);
    }

    /** A new self-signed CA named {@code subject}, valid from {@code now} for {@code validity}. */
    public static CertificateAuthority create(X500Principal subject, Instant now, Duration validity) {
        KeyPair keys = newKeyPair();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(now.minusSeconds(60)),
                    Date.from(now.plus(validity)), subject, keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            return new CertificateAuthority(keys, sign(builder, keys));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot create a CA certificate", e);
        }
    }

    /** A CA kept elsewhere (a Kubernetes Secret), loaded again to issue certificates. */
    public static CertificateAuthority of(X509Certificate certificate, java.security.PrivateKey key) {
        if (certificate.getBasicConstraints() < 0) {
            throw new IllegalArgumentException(certificate.getSubjectX500Principal() + " is not a CA certificate");
        }
        return new CertificateAuthority(new KeyPair(certificate.getPublicKey(), key), certificate);
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** What a certificate is for, and when it is valid. */
    public record Request(String subject, List<String> dnsNames, List<String> ipAddresses, Instant notBefore, Instant notAfter) {
        /** A certificate for {@code subject} (a distinguished name such as {@code CN=broker-0,O=capstan}) valid from now. */
        public static Request of(String subject, Duration validity) {
            Instant now = Instant.now();
            return new Request(subject, List.of(), List.of(), now.minusSeconds(60), now.plus(validity));
        }

        public Request withDns(String... names) {
            List<String> all = new ArrayList<>(dnsNames);
            all.addAll(List.of(names));
            return new Request(subject, all, ipAddresses, notBefore, notAfter);
        }

        public Request withIps(String... ips) {
            List<String> all = new ArrayList<>(ipAddresses);
            all.addAll(List.of(ips));
            return new Request(subject, dnsNames, all, notBefore, notAfter);
        }

        public Request validBetween(Instant from, Instant until) {
            return new Request(subject, dnsNames, ipAddresses, from, until);
        }
    }

    /** A certificate usable by a server and as a TLS client (brokers are both; clients ignore the server use). */
    public IssuedCertificate issue(Request request) {
        KeyPair pair = newKeyPair();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate, serial(), Date.from(request.notBefore()),
                    Date.from(request.notAfter()), new X500Principal(request.subject()), pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement))
                    .addExtension(Extension.extendedKeyUsage, false,
                            new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
            List<GeneralName> names = new ArrayList<>();
            request.dnsNames().forEach(n -> names.add(new GeneralName(GeneralName.dNSName, n)));
            request.ipAddresses().forEach(n -> names.add(new GeneralName(GeneralName.iPAddress, n)));
            if (!names.isEmpty()) {
                builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            }
            return new IssuedCertificate(sign(builder, keys), pair.getPrivate(), certificate);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot issue a certificate for " + request.subject(), e);
        }
    }

    /** The CA's own key as an issued certificate, to write it to disk and load it again. */
    public IssuedCertificate asIssued() {
        return new IssuedCertificate(certificate, keys.getPrivate(), certificate);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(builder.build(
                    new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static KeyPair newKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot make EC P-256 keys", e);
        }
    }

    private static BigInteger serial() {
        return new BigInteger(128, RANDOM);
    }

}
