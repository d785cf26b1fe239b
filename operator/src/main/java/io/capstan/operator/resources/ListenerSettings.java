package io.capstan.operator.resources;

import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * spec.listeners as Kafka's listener settings: the user's listeners, plus the REPLICATION listener the brokers fetch
 * from each other over (mutual TLS, certificates from the cluster CA; whoever holds one is a super user, as the
 * brokers and the operator must be). Users' client certificates come from the clients CA, which the replication
 * listener does not trust. Any authenticating listener turns Kafka ACLs on.
 */
public final class ListenerSettings {
    public static final String REPLICATION_NAME = "replication";
    public static final int REPLICATION_PORT = 9091;
    public static final String TLS_PATH = "/etc/capstan-tls";

    private ListenerSettings() {}

    public static String kafkaName(String listener) {
        return listener.toUpperCase(Locale.ROOT);
    }

    /** Kafka's security protocol for a listener of the spec. */
    public static String protocol(BrokerClusterSpec.ListenerSpec l) {
        boolean tls = Boolean.TRUE.equals(l.tls);
        boolean sasl = "scram-sha-512".equals(l.authentication) || "oauth".equals(l.authentication);
        return sasl ? (tls ? "SASL_SSL" : "SASL_PLAINTEXT") : (tls ? "SSL" : "PLAINTEXT");
    }

    static Map<String, String> render(BrokerCluster c) {
        List<BrokerClusterSpec.ListenerSpec> listeners = c.getSpec().listeners;
        Map<String, String> s = new LinkedHashMap<>();
        List<String> bind = new ArrayList<>();
        List<String> protocols = new ArrayList<>();
        bind.add(kafkaName(REPLICATION_NAME) + "://0.0.0.0:" + REPLICATION_PORT);
        protocols.add(kafkaName(REPLICATION_NAME) + ":SSL");
        for (BrokerClusterSpec.ListenerSpec l : listeners) {
            bind.add(kafkaName(l.name) + "://0.0.0.0:" + l.port);
            protocols.add(kafkaName(l.name) + ":" + protocol(l));
        }
        s.put("listeners", String.join(",", bind));
        s.put("listener.security.protocol.map", String.join(",", protocols));
        s.put("inter.broker.listener.name", kafkaName(REPLICATION_NAME));
        s.put("ssl.keystore.type", "PEM");
        s.put("ssl.keystore.location", TLS_PATH + "/broker.pem");
        s.put("ssl.truststore.type", "PEM");
        s.put("ssl.truststore.location", TLS_PATH + "/cluster-ca.crt");
        s.put("ssl.endpoint.identification.algorithm", "https");
        s.put("listener.name.replication.ssl.client.auth", "required");
        boolean authenticating = false;
        for (BrokerClusterSpec.ListenerSpec l : listeners) {
            String prefix = "listener.name." + l.name.toLowerCase(Locale.ROOT) + ".";
            switch (l.authentication == null ? "none" : l.authentication) {
                case "scram-sha-512" -> {
                    s.put(prefix + "sasl.enabled.mechanisms", "SCRAM-SHA-512");
                    authenticating = true;
                }
                case "tls" -> {
                    s.put(prefix + "ssl.client.auth", "required");
                    s.put(prefix + "ssl.truststore.location", TLS_PATH + "/clients-ca.crt");
                    // a user's certificate says CN=<user>: its principal is User:<user>, as over SCRAM, so ACLs name users alike
                    s.put(prefix + "ssl.principal.mapping.rules", "RULE:^CN=([^,]+)$/$1/,DEFAULT");
                    authenticating = true;
                }
                case "oauth" -> {
                    s.put(prefix + "sasl.enabled.mechanisms", "OAUTHBEARER");
                    s.put(prefix + "sasl.oauthbearer.jwks.endpoint.url", l.oauth.jwksEndpointUri);
                    if (l.oauth.issuer != null) {
                        s.put(prefix + "sasl.oauthbearer.expected.issuer", l.oauth.issuer);
                    }
                    if (l.oauth.audience != null) {
                        s.put(prefix + "sasl.oauthbearer.expected.audience", l.oauth.audience);
                    }
                    authenticating = true;
                }
                default -> { }
            }
        }
        Map<String, String> config = c.getSpec().config == null ? Map.of() : c.getSpec().config;
        List<String> superUsers = new ArrayList<>(List.of("User:" + ClusterSecrets.brokerPrincipal(c).getName(),
                "User:" + ClusterSecrets.OPERATOR_PRINCIPAL.getName()));
        String more = config.getOrDefault("super.users", "").trim();
        if (!more.isEmpty()) {
            superUsers.add(more);
        }
        s.put("super.users", String.join(";", superUsers));
        if (authenticating && !config.containsKey("authorizer.class.name")) {
            s.put("authorizer.class.name", "capstan");
        }
        return s;
    }

    /** advertised.listeners for one pod, whose DNS name is {@code host} (with $(POD_NAME) for the kubelet to expand). */
    static String advertised(BrokerCluster c, String host) {
        List<String> out = new ArrayList<>();
        out.add(kafkaName(REPLICATION_NAME) + "://" + host + ":" + REPLICATION_PORT);
        // an external listener's address is the one the operator published, read by the start script into a variable
        c.getSpec().listeners.forEach(l -> out.add(kafkaName(l.name) + "://" + (ExternalListeners.external(l)
                ? "${" + ExternalListeners.variable(l) + "}" : host + ":" + l.port)));
        return String.join(",", out);
    }
}
