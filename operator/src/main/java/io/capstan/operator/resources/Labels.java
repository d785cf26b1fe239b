package io.capstan.operator.resources;

import java.util.LinkedHashMap;
import java.util.Map;

/** The labels every object of a cluster carries, and the subset that selects its broker pods. */
public final class Labels {
    public static final String NAME = "app.kubernetes.io/name";
    public static final String INSTANCE = "app.kubernetes.io/instance";
    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String COMPONENT = "app.kubernetes.io/component";

    private Labels() {}

    public static Map<String, String> selector(String cluster) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(NAME, "capstan");
        m.put(INSTANCE, cluster);
        m.put(COMPONENT, "broker");
        return m;
    }

    public static Map<String, String> all(String cluster) {
        Map<String, String> m = selector(cluster);
        m.put(MANAGED_BY, "capstan-operator");
        return m;
    }

    /** A StatefulSet pod's ordinal (its broker id) from its name, {@code <cluster>-<n>}. */
    public static int ordinal(String podName) {
        return Integer.parseInt(podName.substring(podName.lastIndexOf('-') + 1));
    }

    /** The selector as the label-selector string of the scale subresource. */
    public static String selectorString(String cluster) {
        StringBuilder b = new StringBuilder();
        selector(cluster).forEach((k, v) -> b.append(b.length() == 0 ? "" : ",").append(k).append('=').append(v));
        return b.toString();
    }
}
