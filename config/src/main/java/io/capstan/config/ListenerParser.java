package io.capstan.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads Kafka's listener settings: {@code listeners}, {@code advertised.listeners} and
 * {@code listener.security.protocol.map}. Pure, so every malformed value is tested without a socket.
 */
public final class ListenerParser {
    private ListenerParser() {}

    /** One {@code NAME://host:port} entry before its protocol is known. */
    record Endpoint(String name, String host, int port) {}

    public static List<Listener> parse(String listeners, String advertisedListeners, String protocolMap) {
        Map<String, SecurityProtocol> protocols = protocolMap(protocolMap);
        List<Endpoint> bound = endpoints("listeners", listeners);
        if (bound.isEmpty()) {
            throw new ConfigException("listeners is empty; give at least one, e.g. PLAINTEXT://127.0.0.1:9092");
        }
        Map<String, Endpoint> advertised = new LinkedHashMap<>();
        for (Endpoint e : endpoints("advertised.listeners", advertisedListeners)) {
            if (advertised.put(e.name(), e) != null) {
                throw new ConfigException("advertised.listeners names " + e.name() + " twice");
            }
            if (bound.stream().noneMatch(b -> b.name().equals(e.name()))) {
                throw new ConfigException("advertised.listeners names " + e.name() + ", which is not in listeners");
            }
            if (e.host().isEmpty() || e.host().equals("0.0.0.0") || e.host().equals("::")) {
                throw new ConfigException("advertised.listeners: " + e.name() + " needs a host clients can reach, got '" + e.host() + "'");
            }
        }
        List<Listener> result = new ArrayList<>();
        for (Endpoint e : bound) {
            if (result.stream().anyMatch(l -> l.name().equals(e.name()))) {
                throw new ConfigException("listeners names " + e.name() + " twice; each listener needs its own name");
            }
            if (e.port() != 0 && result.stream().anyMatch(l -> l.port() == e.port())) {
                throw new ConfigException("listeners: port " + e.port() + " is used by two listeners");
            }
            SecurityProtocol protocol = protocols.get(e.name());
            if (protocol == null) {
                throw new ConfigException("listener " + e.name() + " has no security protocol: add " + e.name()
                        + ":<PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL> to listener.security.protocol.map");
            }
            Endpoint adv = advertised.get(e.name());
            String host = e.host().isEmpty() ? "0.0.0.0" : e.host();
            String advertisedHost = adv != null ? adv.host() : host;
            result.add(new Listener(e.name(), host, e.port(), protocol, advertisedHost, adv != null ? adv.port() : 0));
        }
        return List.copyOf(result);
    }

    static Map<String, SecurityProtocol> protocolMap(String value) {
        Map<String, SecurityProtocol> map = new LinkedHashMap<>();
        for (String entry : split(value)) {
            int colon = entry.indexOf(':');
            if (colon <= 0 || colon == entry.length() - 1) {
                throw new ConfigException("listener.security.protocol.map entry '" + entry + "' must be NAME:PROTOCOL");
            }
            String name = entry.substring(0, colon).trim().toUpperCase(Locale.ROOT);
            String protocol = entry.substring(colon + 1).trim().toUpperCase(Locale.ROOT);
            try {
                map.put(name, SecurityProtocol.forName(protocol));
            } catch (IllegalArgumentException e) {
                throw new ConfigException("listener.security.protocol.map: unknown protocol '" + protocol + "' for " + name
                        + " (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)");
            }
        }
        return map;
    }

    static List<Endpoint> endpoints(String key, String value) {
        List<Endpoint> result = new ArrayList<>();
        for (String entry : split(value)) {
            int scheme = entry.indexOf("://");
            if (scheme <= 0) {
                throw new ConfigException(key + " entry '" + entry + "' must look like NAME://host:port");
            }
            String name = entry.substring(0, scheme).toUpperCase(Locale.ROOT);
            if (!name.matches("[A-Z0-9_]+")) {
                throw new ConfigException(key + ": listener name '" + name + "' may hold only letters, digits and _");
            }
            String address = entry.substring(scheme + 3);
            int colon = address.lastIndexOf(':');
            if (colon < 0) {
                throw new ConfigException(key + " entry '" + entry + "' has no port; write NAME://host:port");
            }
            String host = address.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(address.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new ConfigException(key + " entry '" + entry + "' has a port that is not a number");
            }
            if (port < 0 || port > 65535) {
                throw new ConfigException(key + " entry '" + entry + "': port must be 0..65535");
            }
            result.add(new Endpoint(name, host, port));
        }
        return result;
    }

    private static List<String> split(String value) {
        List<String> parts = new ArrayList<>();
        for (String part : value.split(",")) {
            if (!part.isBlank()) {
                parts.add(part.trim());
            }
        }
        return parts;
    }
}
