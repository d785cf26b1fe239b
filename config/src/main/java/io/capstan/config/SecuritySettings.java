package io.capstan.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Reads the listener, TLS and SASL settings into a {@link Security}, honouring Kafka's per-listener overrides. */
final class SecuritySettings {
    /** Settings a listener may override as {@code listener.name.<name>.<key>}. */
    private static final Set<String> PER_LISTENER = Set.of("ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password",
            "ssl.key.password", "ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.password", "ssl.client.auth",
            "ssl.enabled.protocols", "ssl.cipher.suites", "ssl.principal.mapping.rules", "sasl.enabled.mechanisms",
            "connections.max.reauth.ms", "sasl.oauthbearer.jwks.endpoint.url", "sasl.oauthbearer.expected.issuer",
            "sasl.oauthbearer.expected.audience", "sasl.oauthbearer.sub.claim.name", "sasl.oauthbearer.scope.claim.name",
            "sasl.oauthbearer.clock.skew.seconds");
    private static final List<String> LEGACY_LISTENER_KEYS = List.of("listener.host", "listener.port", "advertised.host", "advertised.port");

    private SecuritySettings() {}

    static boolean isListenerOverride(String key, Map<String, String> known) {
        if (!key.startsWith("listener.name.")) {
            return false;
        }
        String rest = key.substring("listener.name.".length());
        int dot = rest.indexOf('.');
        return dot > 0 && PER_LISTENER.contains(rest.substring(dot + 1));
    }

    static Security read(Map<String, String> s, Set<String> given) {
        List<Listener> listeners = listeners(s, given);
        String interBroker = s.get("inter.broker.listener.name").toUpperCase(Locale.ROOT);
        if (interBroker.isEmpty()) {
            interBroker = listeners.get(0).name();
        }
        Map<String, SslSettings> ssl = new LinkedHashMap<>();
        Map<String, SaslSettings> sasl = new LinkedHashMap<>();
        for (Listener l : listeners) {
            if (l.tls()) {
                ssl.put(l.name(), ssl(s, l.settingsPrefix()));
            }
            if (l.sasl()) {
                sasl.put(l.name(), sasl(s, l.settingsPrefix()));
            }
        }
        String mechanism = s.get("sasl.mechanism.inter.broker.protocol").toUpperCase(Locale.ROOT);
        if (!SaslSettings.SUPPORTED.contains(mechanism)) {
            throw new ConfigException("sasl.mechanism.inter.broker.protocol must be one of " + SaslSettings.SUPPORTED + ", got " + mechanism);
        }
        String endpointCheck = s.get("ssl.endpoint.identification.algorithm").toLowerCase(Locale.ROOT);
        if (!endpointCheck.isEmpty() && !endpointCheck.equals("https")) {
            throw new ConfigException("ssl.endpoint.identification.algorithm must be https or empty, got '" + endpointCheck + "'");
        }
        Security.InterBrokerClient client = new Security.InterBrokerClient(mechanism, s.get("inter.broker.sasl.username"),
                s.get("inter.broker.sasl.password"), endpointCheck.equals("https"));
        Set<String> superUsers = new LinkedHashSet<>();
        for (String u : s.get("super.users").split(";")) {
            String user = u.trim();
            if (user.isEmpty()) {
                continue;
            }
            if (!user.contains(":")) {
                throw new ConfigException("super.users entry '" + user + "' must be a principal such as User:alice");
            }
            superUsers.add(user);
        }
        String authorizer = s.get("authorizer.class.name");
        if (!authorizer.isEmpty() && !Security.AUTHORIZERS.contains(authorizer)) {
            throw new ConfigException("authorizer.class.name must be empty (no ACLs) or one of " + Security.AUTHORIZERS + ", got '" + authorizer + "'");
        }
        String allowIfNone = s.get("allow.everyone.if.no.acl.found").toLowerCase(Locale.ROOT);
        if (!allowIfNone.equals("true") && !allowIfNone.equals("false")) {
            throw new ConfigException("allow.everyone.if.no.acl.found must be true or false, got '" + allowIfNone + "'");
        }
        return new Security(listeners, interBroker, Map.copyOf(ssl), Map.copyOf(sasl), client, Set.copyOf(superUsers),
                !authorizer.isEmpty(), Boolean.parseBoolean(allowIfNone));
    }

    private static List<Listener> listeners(Map<String, String> s, Set<String> given) {
        String listeners = s.get("listeners");
        if (listeners.isEmpty()) {
            for (String key : List.of("listener.port", "advertised.port")) {
                long port = longSetting(s.get(key), key);
                if (port < 0 || port > 65535) {
                    throw new ConfigException(key + " must be 0..65535, got " + port);
                }
            }
            String advertisedHost = s.get("advertised.host").isEmpty() ? s.get("listener.host") : s.get("advertised.host");
            String advertised = "PLAINTEXT://" + bracket(advertisedHost) + ":" + s.get("advertised.port");
            List<Listener> parsed = ListenerParser.parse("PLAINTEXT://" + bracket(s.get("listener.host")) + ":" + s.get("listener.port"),
                    "", "PLAINTEXT:PLAINTEXT");
            Listener l = parsed.get(0);
            List<ListenerParser.Endpoint> adv = ListenerParser.endpoints("advertised.host/advertised.port", advertised);
            return List.of(new Listener(l.name(), l.host(), l.port(), l.protocol(), adv.get(0).host(), adv.get(0).port()));
        }
        List<String> conflicting = new ArrayList<>(LEGACY_LISTENER_KEYS.stream().filter(given::contains).toList());
        if (!conflicting.isEmpty()) {
            throw new ConfigException("set listeners/advertised.listeners or " + conflicting + ", not both");
        }
        return ListenerParser.parse(listeners, s.get("advertised.listeners"), s.get("listener.security.protocol.map"));
    }

    private static String bracket(String host) {
        return host.contains(":") ? "[" + host + "]" : host;
    }

    private static String get(Map<String, String> s, String prefix, String key) {
        String override = s.get(prefix + key);
        return override != null ? override.trim() : s.get(key);
    }

    private static SslSettings ssl(Map<String, String> s, String prefix) {
        String clientAuth = get(s, prefix, "ssl.client.auth").toUpperCase(Locale.ROOT);
        SslSettings.ClientAuth auth;
        try {
            auth = SslSettings.ClientAuth.valueOf(clientAuth);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("ssl.client.auth must be required, requested or none, got '" + clientAuth.toLowerCase(Locale.ROOT) + "'");
        }
        String keystorePassword = get(s, prefix, "ssl.keystore.password");
        String keyPassword = get(s, prefix, "ssl.key.password");
        return new SslSettings(get(s, prefix, "ssl.keystore.type").toUpperCase(Locale.ROOT), get(s, prefix, "ssl.keystore.location"),
                keystorePassword, keyPassword.isEmpty() ? keystorePassword : keyPassword,
                get(s, prefix, "ssl.truststore.type").toUpperCase(Locale.ROOT), get(s, prefix, "ssl.truststore.location"),
                get(s, prefix, "ssl.truststore.password"), auth, list(get(s, prefix, "ssl.enabled.protocols")),
                list(get(s, prefix, "ssl.cipher.suites")), get(s, prefix, "ssl.principal.mapping.rules"));
    }

    private static SaslSettings sasl(Map<String, String> s, String prefix) {
        List<String> mechanisms = list(get(s, prefix, "sasl.enabled.mechanisms")).stream().map(m -> m.toUpperCase(Locale.ROOT)).toList();
        if (mechanisms.isEmpty()) {
            throw new ConfigException("sasl.enabled.mechanisms is empty for a SASL listener; use SCRAM-SHA-512");
        }
        OAuthSettings oauth = !mechanisms.contains("OAUTHBEARER") ? null : new OAuthSettings(
                get(s, prefix, "sasl.oauthbearer.jwks.endpoint.url"), get(s, prefix, "sasl.oauthbearer.expected.issuer"),
                list(get(s, prefix, "sasl.oauthbearer.expected.audience")), get(s, prefix, "sasl.oauthbearer.sub.claim.name"),
                get(s, prefix, "sasl.oauthbearer.scope.claim.name"),
                intSetting(get(s, prefix, "sasl.oauthbearer.clock.skew.seconds"), "sasl.oauthbearer.clock.skew.seconds"));
        return new SaslSettings(mechanisms, s.get("sasl.plain.credentials.file"),
                longSetting(get(s, prefix, "connections.max.reauth.ms"), "connections.max.reauth.ms"),
                intSetting(s.get("connection.failed.authentication.delay.ms"), "connection.failed.authentication.delay.ms"),
                intSetting(s.get("sasl.server.max.receive.size"), "sasl.server.max.receive.size"), oauth);
    }

    private static long longSetting(String value, String key) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new ConfigException(key + " must be an integer, got '" + value + "'");
        }
    }

    private static int intSetting(String value, String key) {
        long v = longSetting(value, key);
        if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
            throw new ConfigException(key + " must be at most " + Integer.MAX_VALUE + ", got " + value);
        }
        return (int) v;
    }

    private static List<String> list(String value) {
        return Arrays.stream(value.split(",")).map(String::trim).filter(v -> !v.isEmpty()).toList();
    }
}
