package io.capstan.config;

import java.util.List;

/**
 * TLS material and policy of one listener, with Kafka's setting names ({@code ssl.*}, overridable per listener as
 * {@code listener.name.<name>.ssl.*}). Key and trust stores are PKCS12, JKS or PEM files.
 */
public record SslSettings(String keystoreType, String keystoreLocation, String keystorePassword, String keyPassword,
                          String truststoreType, String truststoreLocation, String truststorePassword,
                          ClientAuth clientAuth, List<String> enabledProtocols, List<String> cipherSuites,
                          String principalMappingRules) {

    /** ssl.client.auth: whether the broker asks clients for a certificate. */
    public enum ClientAuth { NONE, REQUESTED, REQUIRED }

    public SslSettings {
        if (keystoreLocation.isEmpty()) {
            throw new ConfigException("a TLS listener needs ssl.keystore.location (the broker's key and certificate:"
                    + " a PKCS12 file, or PEM with ssl.keystore.type=PEM); `capstan certs` makes a test set");
        }
        if (clientAuth != ClientAuth.NONE && truststoreLocation.isEmpty()) {
            throw new ConfigException("ssl.client.auth=" + clientAuth.name().toLowerCase(java.util.Locale.ROOT)
                    + " needs ssl.truststore.location (the CA that signs client certificates)");
        }
        for (String type : List.of(keystoreType, truststoreType)) {
            if (!List.of("PKCS12", "JKS", "PEM").contains(type)) {
                throw new ConfigException("ssl.keystore.type and ssl.truststore.type must be PKCS12, JKS or PEM, got '" + type + "'");
            }
        }
        for (String p : enabledProtocols) {
            if (!List.of("TLSv1.2", "TLSv1.3").contains(p)) {
                throw new ConfigException("ssl.enabled.protocols may hold TLSv1.2 and TLSv1.3, got '" + p + "'");
            }
        }
        if (enabledProtocols.isEmpty()) {
            throw new ConfigException("ssl.enabled.protocols is empty; use TLSv1.3,TLSv1.2");
        }
        enabledProtocols = List.copyOf(enabledProtocols);
        cipherSuites = List.copyOf(cipherSuites);
    }
}
