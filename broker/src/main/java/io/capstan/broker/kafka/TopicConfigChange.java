package io.capstan.broker.kafka;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.protocol.Errors;

/**
 * A resource's configs after an IncrementalAlterConfigs (SET, DELETE, APPEND, SUBTRACT per key) or an AlterConfigs (the
 * given set replaces all overrides), with Kafka's checks and error codes: a topic's overrides, or the dynamic settings
 * of a broker ({@link Rules}). Pure: the caller reads and writes the resource.
 */
public final class TopicConfigChange {
    /** Kafka's AlterConfigOp.OpType ids. */
    public enum Op {
        SET, DELETE, APPEND, SUBTRACT;

        /** The op a request names by id, or null for an id Kafka does not define. */
        public static Op forId(byte id) {
            return id >= 0 && id < values().length ? values()[id] : null;
        }
    }

    /** One key's change as a request gives it; {@code op} null when the request named an unknown operation. */
    public record Entry(String key, Op op, String value) {}

    /** The configs after the change, or why it is refused (then {@code configs} is null). */
    public record Outcome(Map<String, String> configs, Errors error, String message) {
        static Outcome refused(Errors error, String message) {
            return new Outcome(null, error, message);
        }

        public boolean ok() {
            return error == Errors.NONE;
        }
    }

    /**
     * What a kind of resource allows: its settings whose value is a comma-separated list (Kafka's LIST type), the only
     * ones APPEND and SUBTRACT apply to, with the value the resource has when it does not set them; and what is wrong
     * with a value of one key (null: nothing), answered with INVALID_CONFIG.
     */
    public record Rules(Map<String, String> lists, java.util.function.BinaryOperator<String> problem) {}

    /** A topic's: cleanup.policy is a list defaulting to delete; every key checked by {@link TopicConfigs}. */
    public static final Rules TOPIC = new Rules(Map.of("cleanup.policy", "delete"), (key, value) -> value == null
            ? (TopicConfigs.SUPPORTED.contains(key) ? null : TopicConfigs.problem(key, ""))
            : TopicConfigs.problem(key, value));

    private TopicConfigChange() {}

    /** A topic's IncrementalAlterConfigs. */
    public static Outcome incremental(Map<String, String> current, List<Entry> entries) {
        return incremental(current, entries, TOPIC);
    }

    /** A topic's AlterConfigs. */
    public static Outcome replacing(List<Entry> entries) {
        return replacing(entries, TOPIC);
    }

    /** IncrementalAlterConfigs: each entry applied to the current overrides (an unset list starts from its default). */
    public static Outcome incremental(Map<String, String> current, List<Entry> entries, Rules rules) {
        Outcome malformed = malformed(entries, false);
        if (malformed != null) {
            return malformed;
        }
        Map<String, String> next = new TreeMap<>(current);
        for (Entry e : entries) {
            switch (e.op()) {
                case SET -> next.put(e.key(), e.value());
                case DELETE -> next.remove(e.key());
                case APPEND, SUBTRACT -> {
                    if (!rules.lists().containsKey(e.key())) {
                        return Outcome.refused(Errors.INVALID_CONFIG, "Can't " + e.op() + " to key " + e.key() + " because its type is not LIST.");
                    }
                    String was = next.getOrDefault(e.key(), rules.lists().get(e.key()));
                    List<String> parts = new ArrayList<>(was == null || was.isEmpty() ? List.of() : Arrays.asList(was.split(",")));
                    for (String v : e.value().split(",")) {
                        if (e.op() == Op.SUBTRACT) {
                            parts.remove(v);
                        } else if (!parts.contains(v)) {
                            parts.add(v);
                        }
                    }
                    next.put(e.key(), String.join(",", parts));
                }
            }
        }
        return validated(next, entries, rules);
    }

    /** AlterConfigs (the older API): the given values become the only overrides. */
    public static Outcome replacing(List<Entry> entries, Rules rules) {
        Outcome malformed = malformed(entries, true);
        if (malformed != null) {
            return malformed;
        }
        Map<String, String> next = new TreeMap<>();
        entries.forEach(e -> next.put(e.key(), e.value()));
        return validated(next, entries, rules);
    }

    private static Outcome malformed(List<Entry> entries, boolean legacy) {
        Set<String> seen = new HashSet<>();
        for (Entry e : entries) {
            if (!seen.add(e.key())) {
                return Outcome.refused(Errors.INVALID_REQUEST, "Error due to duplicate config keys");
            }
            if (e.op() == null) {
                return Outcome.refused(Errors.INVALID_REQUEST, "Unknown operation type for config key " + e.key());
            }
            if (e.value() == null && (legacy || e.op() != Op.DELETE)) {
                return Outcome.refused(Errors.INVALID_REQUEST, "Null value not supported for : " + e.key());
            }
        }
        return null;
    }

    /** Every key the request touched must be a valid key with a valid value (or none) in the result. */
    private static Outcome validated(Map<String, String> next, List<Entry> entries, Rules rules) {
        for (Entry e : entries) {
            String problem = rules.problem().apply(e.key(), next.get(e.key()));
            if (problem != null) {
                return Outcome.refused(Errors.INVALID_CONFIG, problem);
            }
        }
        return new Outcome(Map.copyOf(next), Errors.NONE, null);
    }
}
