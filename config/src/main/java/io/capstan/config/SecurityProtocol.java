package io.capstan.config;

import java.util.Locale;

/** A listener's security protocol, by Kafka's names (as in {@code listener.security.protocol.map}). */
public enum SecurityProtocol {
    PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL;

    /** Kafka's spelling, any case; IllegalArgumentException for anything else. */
    public static SecurityProtocol forName(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }
}
