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

    private static boolean contains(String value, String policy) {
        for (String part : value.split(",")) {
            if (part.trim().equals(policy)) {
                return true;
            }
        }
        return false;
    }
}
