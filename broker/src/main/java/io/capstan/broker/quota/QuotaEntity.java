package io.capstan.broker.quota;

import java.util.ArrayList;
import java.util.List;

/**
 * Whom a client quota applies to, as in Kafka: a user, a client id, or a user's client id. Each part is absent
 * ({@code null}), the default ({@link Name#DEFAULT}, Kafka's {@code <default>}) or a name.
 */
public record QuotaEntity(Name user, Name clientId) {
    public static final String USER = "user";
    public static final String CLIENT_ID = "client-id";

    /** One part of an entity: a name, or the default when {@code name} is null. */
    public record Name(String name) {
        public static final Name DEFAULT = new Name(null);

        public boolean isDefault() {
            return name == null;
        }

        public static Name of(String name) {
            return name == null ? DEFAULT : new Name(name);
        }
    }

    public QuotaEntity {
        if (user == null && clientId == null) {
            throw new IllegalArgumentException("a quota entity names a user, a client id or both");
        }
    }

    /** The entity's parts as Kafka's protocol lists them (type, name or null for the default). */
    public List<String[]> parts() {
        List<String[]> out = new ArrayList<>(2);
        if (user != null) {
            out.add(new String[] {USER, user.name()});
        }
        if (clientId != null) {
            out.add(new String[] {CLIENT_ID, clientId.name()});
        }
        return out;
    }

    /** A stable text for the store's key: each part tagged, so a name can never pass for the default or another part. */
    String canonical() {
        return part("u", user) + "/" + part("c", clientId);
    }

    private static String part(String tag, Name n) {
        return n == null ? "" : n.isDefault() ? tag + "*" : tag + "=" + n.name();
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        for (String[] p : parts()) {
            s.append(s.isEmpty() ? "" : ", ").append(p[0]).append('=').append(p[1] == null ? "<default>" : p[1]);
        }
        return s.toString();
    }
}
