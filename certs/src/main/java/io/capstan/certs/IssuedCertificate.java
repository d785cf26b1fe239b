package io.capstan.certs;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/** A certificate, its private key and the CA that signed it, written in the formats Kafka reads. */
public record IssuedCertificate(X509Certificate certificate, PrivateKey key, X509Certificate ca) {

    /** PKCS#8 private key followed by the certificate chain: Kafka's PEM key store format (ssl.keystore.type=PEM). */
    public String keyAndChainPem() {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
            pem.writeObject(new JcaPKCS8Generator(key, null));
            pem.writeObject(certificate);
            if (!certificate.equals(ca)) {
                pem.writeObject(ca);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** The PKCS#8 private key alone, PEM. */
    public String keyPem() {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
            pem.writeObject(new JcaPKCS8Generator(key, null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    public String certificatePem() {
        return pem(certificate);
    }

    public String caPem() {
        return pem(ca);
    }

    public static String pem(X509Certificate certificate) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
            pem.writeObject(certificate);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** A PKCS12 key store with the key under alias {@code alias} and its chain. */
    public void writePkcs12(Path file, String alias, char[] password) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            Certificate[] chain = certificate.equals(ca) ? new Certificate[] {certificate} : new Certificate[] {certificate, ca};
            store.setKeyEntry(alias, key, password, chain);
            writeAtomically(file, out -> store.store(out, password));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot write " + file, e);
        }
    }

    /** A PKCS12 trust store holding only the CA certificate. */
    public void writeTrustStorePkcs12(Path file, char[] password) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setCertificateEntry("ca", ca);
            writeAtomically(file, out -> store.store(out, password));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot write " + file, e);
        }
    }

    public void writeKeyAndChainPem(Path file) {
        writeString(file, keyAndChainPem());
    }

    /** The certificate alone (librdkafka's ssl.certificate.location). */
    public void writeCertificatePem(Path file) {
        writeString(file, certificatePem());
    }

    /** The PKCS#8 private key alone (librdkafka's ssl.key.location). */
    public void writeKeyPem(Path file) {
        writeString(file, keyPem());
    }

    public void writeCaPem(Path file) {
        writeString(file, caPem());
    }

    private static void writeString(Path file, String content) {
        try {
            writeAtomically(file, out -> out.write(content.getBytes(StandardCharsets.US_ASCII)));
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot write " + file, e);
        }
    }

    private interface Writer {
        void write(OutputStream out) throws IOException, GeneralSecurityException;
    }

    /** Written beside the target and renamed over it, so a reader never sees half a key store. */
    private static void writeAtomically(Path file, Writer writer) throws IOException, GeneralSecurityException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".capstan-cert", ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            writer.write(out);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
