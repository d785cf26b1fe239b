package io.capstan.config;

import java.util.List;

/**
 * SASL on the broker's SASL listeners: which mechanisms it offers, where PLAIN's users live, how long a session lasts
 * before the client must re-authenticate (KIP-368), how a failed attempt is slowed down, and the largest frame an
 * unauthenticated peer may send.
 */
public record SaslSettings(List<String> enabledMechanisms, String plainCredentialsFile, long reauthMs,
                           int failedAuthenticationDelayMs, int maxReceiveSize, OAuthSettings oauth) {
    public static final List<String> SUPPORTED = List.of("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN", "OAUTHBEARER");

    public SaslSettings {
        for (String m : enabledMechanisms) {
            if (!SUPPORTED.contains(m)) {
                throw new ConfigException("sasl.enabled.mechanisms: '" + m + "' is not supported; use any of " + SUPPORTED);
            }
        }
        if (enabledMechanisms.contains("PLAIN") && plainCredentialsFile.isEmpty()) {
            throw new ConfigException("SASL PLAIN needs sasl.plain.credentials.file (lines user=password)");
        }
        if (reauthMs < 0) {
            throw new ConfigException("connections.max.reauth.ms must be >= 0 (0: sessions never expire)");
        }
        if (failedAuthenticationDelayMs < 0) {
            throw new ConfigException("connection.failed.authentication.delay.ms must be >= 0");
        }
        if (maxReceiveSize < 1024) {
            throw new ConfigException("sasl.server.max.receive.size must be >= 1024");
        }
        enabledMechanisms = List.copyOf(enabledMechanisms);
    }
}
