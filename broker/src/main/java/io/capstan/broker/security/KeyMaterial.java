package io.capstan.broker.security;

import io.capstan.config.SslSettings;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * Key and trust managers from Kafka-style stores: PKCS12 or JKS files, or PEM (a PKCS#8 private key, encrypted or
 * not, followed by its certificate chain; or CA certificates for a trust store), as {@code ssl.keystore.type=PEM} and
 * {@code ssl.truststore.type=PEM} mean in Kafka.
 */
public final class KeyMaterial {
    private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z ]+)-----([^-]+)-----END \\1-----");

    private KeyMaterial() {}

    public static KeyManagerFactory keyManagers(SslSettings s) throws IOException, GeneralSecurityException {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keyStore(s), s.keystoreType().equals("PEM") ? new char[0] : s.keyPassword().toCharArray());
        return kmf;
    }

    /**
     * When the first of the key store's own certificates (the leaf of each key entry's chain) expires, in epoch
     * milliseconds: what a certificate-expiry alert watches.
     */
    public static long earliestLeafExpiryMs(SslSettings s) throws IOException, GeneralSecurityException {
        KeyStore store = keyStore(s);
        long earliest = Long.MAX_VALUE;
        for (String alias : java.util.Collections.list(store.aliases())) {
            Certificate[] chain = store.getCertificateChain(alias);
            if (chain != null && chain.length > 0 && chain[0] instanceof java.security.cert.X509Certificate leaf) {
                earliest = Math.min(earliest, leaf.getNotAfter().getTime());
            }
        }
        if (earliest == Long.MAX_VALUE) {
            throw new GeneralSecurityException("no key entry with a certificate in " + s.keystoreLocation());
        }
        return earliest;
    }

    private static KeyStore keyStore(SslSettings s) throws IOException, GeneralSecurityException {
        return s.keystoreType().equals("PEM") ? pemKeyStore(Path.of(s.keystoreLocation()), s.keyPassword())
                : load(s.keystoreType(), s.keystoreLocation(), s.keystorePassword());
    }

    public static TrustManagerFactory trustManagers(SslSettings s) throws IOException, GeneralSecurityException {
        KeyStore store;
        if (s.truststoreType().equals("PEM")) {
            store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            int i = 0;
            for (Certificate c : certificates(Files.readString(Path.of(s.truststoreLocation()), StandardCharsets.US_ASCII))) {
                store.setCertificateEntry("ca-" + i++, c);
            }
            if (i == 0) {
                throw new GeneralSecurityException("no certificate in PEM trust store " + s.truststoreLocation());
            }
        } else {
            store = load(s.truststoreType(), s.truststoreLocation(), s.truststorePassword());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        return tmf;
    }

    private static KeyStore pemKeyStore(Path file, String keyPassword) throws IOException, GeneralSecurityException {
        String pem = Files.readString(file, StandardCharsets.US_ASCII);
        PrivateKey key = null;
        Matcher m = BLOCK.matcher(pem);
        while (m.find() && key == null) {
            byte[] der = Base64.getMimeDecoder().decode(m.group(2));
            if (m.group(1).equals("PRIVATE KEY")) {
                key = privateKey(der);
            } else if (m.group(1).equals("ENCRYPTED PRIVATE KEY")) {
                if (keyPassword.isEmpty()) {
                    throw new GeneralSecurityException("the PEM private key in " + file + " is encrypted: set ssl.key.password");
                }
                EncryptedPrivateKeyInfo info = new EncryptedPrivateKeyInfo(der);
                Cipher cipher = Cipher.getInstance(info.getAlgName());
                cipher.init(Cipher.DECRYPT_MODE, SecretKeyFactory.getInstance(info.getAlgName())
                        .generateSecret(new PBEKeySpec(keyPassword.toCharArray())), info.getAlgParameters());
                key = privateKey(info.getKeySpec(cipher).getEncoded());
            }
        }
        if (key == null) {
            throw new GeneralSecurityException("no PKCS#8 private key (BEGIN PRIVATE KEY) in " + file);
        }
        List<Certificate> chain = certificates(pem);
        if (chain.isEmpty()) {
            throw new GeneralSecurityException("no certificate after the private key in " + file);
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("key", key, new char[0], chain.toArray(Certificate[]::new));
        return store;
    }

    private static PrivateKey privateKey(byte[] pkcs8) throws GeneralSecurityException {
        GeneralSecurityException last = null;
        for (String algorithm : new String[] {"EC", "RSA", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw new GeneralSecurityException("unsupported private key (EC, RSA and Ed25519 are read)", last);
    }

    private static List<Certificate> certificates(String pem) throws GeneralSecurityException {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        List<Certificate> out = new ArrayList<>();
        Matcher m = BLOCK.matcher(pem);
        while (m.find()) {
            if (m.group(1).equals("CERTIFICATE")) {
                out.add(factory.generateCertificate(new ByteArrayInputStream(Base64.getMimeDecoder().decode(m.group(2)))));
            }
        }
        return out;
    }

    private static KeyStore load(String type, String location, String password) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance(type);
        try (InputStream in = Files.newInputStream(Path.of(location))) {
            store.load(in, password.isEmpty() ? null : password.toCharArray());
        }
        return store;
    }
}
