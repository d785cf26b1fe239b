package io.capstan.config;

/** Kafka's cleanup.policy values: a comma-separated list of delete and compact, in any order, at least one. */
public final class CleanupPolicies {
    public static final String DELETE = "delete";
    public static final String COMPACT = "compact";

    private CleanupPolicies() {}

    /** Null if {@code value} is a valid policy list, else what is wrong with it. */
    public static String problem(String value) {
        for (String part : value.split(",", -1)) {
            String policy = part.trim();
            if (!policy.equals(DELETE) && !policy.equals(COMPACT)) {
                return "cleanup.policy must be 'delete', 'compact' or 'compact,delete', got '" + value + "'";
            }
        }
        return null;
    }

    public static boolean compacts(String value) {
        return contains(value, COMPACT);
    }

    public static boolean deletes(String value) {
        return contains(value, DELETE);
    }

    /** Whether the comma-separated list names {@code policy}; allocation-free, as produce asks it for every batch. */
    private static boolean contains(String value, String policy) {
        int start = 0;
        while (start <= value.length()) {
            int end = value.indexOf(',', start);
            if (end < 0) {
                end = value.length();
            }
            int from = start;
            int to = end;
            while (from < to && Character.isWhitespace(value.charAt(from))) {
                from++;
            }
            while (to > from && Character.isWhitespace(value.charAt(to - 1))) {
                to--;
            }
            if (to - from == policy.length() && value.regionMatches(from, policy, 0, policy.length())) {
                return true;
            }
            start = end + 1;
        }
        return false;
    }
}
