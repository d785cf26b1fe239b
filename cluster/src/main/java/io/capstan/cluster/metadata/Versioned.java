package io.capstan.cluster.metadata;

import java.util.Arrays;

/** A stored value and the version that compare-and-set must name to replace it (1 for a new key). */
public record Versioned(String key, long version, byte[] value) {
    @Override
    public boolean equals(Object o) {
        return o instanceof Versioned v && v.key.equals(key) && v.version == version && Arrays.equals(v.value, value);
    }

    @Override
    public int hashCode() {
        return key.hashCode() * 31 + Long.hashCode(version);
    }

    @Override
    public String toString() {
        return key + "@" + version + " (" + value.length + " bytes)";
    }
}
