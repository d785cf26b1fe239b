package io.capstan.operator.console;

/**
 * A request path under {@code /clusters/<namespace>/<name>}: the cluster it names and the rest of the path (starting
 * with "/", or empty when the path stops at the name).
 */
record ClusterPath(String namespace, String name, String rest) {
    private static final String PREFIX = "/clusters/";

    /** The path's cluster, or null when it names none (or names one with characters no Kubernetes name has). */
    static ClusterPath parse(String path) {
        if (!path.startsWith(PREFIX)) {
            return null;
        }
        String[] parts = path.substring(PREFIX.length()).split("/", 3);
        if (parts.length < 2 || !dnsName(parts[0]) || !dnsName(parts[1])) {
            return null;
        }
        return new ClusterPath(parts[0], parts[1], parts.length == 3 ? "/" + parts[2] : "");
    }

    private static boolean dnsName(String s) {
        return s.matches("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
    }

    /** The cluster alone, whatever the rest. */
    ClusterPath key() {
        return new ClusterPath(namespace, name, "");
    }
}
