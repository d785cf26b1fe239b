package io.capstan.broker.kafka;

import java.util.regex.Pattern;

/** Kafka's topic naming rules, so names valid here are valid for every client and tool. */
public final class TopicNames {
    private static final Pattern LEGAL = Pattern.compile("[a-zA-Z0-9._-]+");
    public static final int MAX_LENGTH = 249;

    private TopicNames() {}

    /** Topics Capstan keeps for itself (committed offsets); clients may read but not write, create or delete them. */
    public static boolean internal(String name) {
        return name != null && name.startsWith("__capstan");
    }

    /** Null when valid, else why not. */
    public static String problem(String name) {
        if (name == null || name.isEmpty()) {
            return "topic name is empty";
        }
        if (name.equals(".") || name.equals("..")) {
            return "topic name cannot be '.' or '..'";
        }
        if (name.length() > MAX_LENGTH) {
            return "topic name is longer than " + MAX_LENGTH + " characters";
        }
        if (!LEGAL.matcher(name).matches()) {
            return "topic name '" + name + "' may contain only ASCII letters, digits, '.', '_' and '-'";
        }
        return null;
    }
}
