package io.capstan.config;


/**
 * One Kafka listener as Kafka names it: {@code NAME://host:port} with the security protocol its name maps to, and the
 * address clients are told to use for it (advertised.listeners).
 */
public record Listener(String name, String host, int port, SecurityProtocol protocol, String advertisedHost, int advertisedPort) {
    public boolean tls() {
        return protocol == SecurityProtocol.SSL || protocol == SecurityProtocol.SASL_SSL;
    }

    public boolean sasl() {
        return protocol == SecurityProtocol.SASL_PLAINTEXT || protocol == SecurityProtocol.SASL_SSL;
    }

    /** The lower-case prefix of settings that apply to this listener only, as Kafka spells it. */
    public String settingsPrefix() {
        return "listener.name." + name.toLowerCase(java.util.Locale.ROOT) + ".";
    }
}
