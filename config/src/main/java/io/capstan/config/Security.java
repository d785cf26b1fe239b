package io.capstan.config;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who may connect how: the listeners with their protocols, the one brokers replicate over, TLS and SASL settings per
 * listener (absent for listeners that do not use them), and how this broker authenticates when it is the client of
 * another broker.
 */
public record Security(List<Listener> listeners, String interBrokerListener, Map<String, SslSettings> ssl,
                       Map<String, SaslSettings> sasl, InterBrokerClient interBrokerClient, Set<String> superUsers,
                       boolean authorizerEnabled, boolean allowEveryoneIfNoAclFound) {
    /** authorizer.class.name values that turn on Capstan's ACL authorizer: its own name and Kafka's authorizers'. */
    public static final java.util.List<String> AUTHORIZERS = java.util.List.of("capstan",
            "org.apache.kafka.metadata.authorizer.StandardAuthorizer", "kafka.security.authorizer.AclAuthorizer");


    /**
     * How a follower authenticates to its leader over the inter-broker listener: a SASL mechanism and credentials
     * (when that listener uses SASL), and whether it checks the leader's certificate against its advertised host.
     */
    public record InterBrokerClient(String saslMechanism, String username, String password, boolean verifyHostname) {
        @Override
        public String toString() {
            return "InterBrokerClient[" + saslMechanism + ", " + username + ", password hidden, verifyHostname=" + verifyHostname + "]";
        }
    }

    public Listener listener(String name) {
        return listeners.stream().filter(l -> l.name().equals(name)).findFirst()
                .orElseThrow(() -> new ConfigException("no listener named " + name));
    }

    public Listener interBroker() {
        return listener(interBrokerListener);
    }

    /** Whether anything but PLAINTEXT is configured: then nothing changes state without authentication. */
    public boolean secured() {
        return listeners.stream().anyMatch(l -> l.sasl() || l.tls());
    }
}
