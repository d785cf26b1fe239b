package io.capstan.cluster;

import java.security.Security;

/**
 * Turns off the JVM's cache of resolved host names for this process. Brokers are named by stable DNS names whose
 * addresses change whenever a pod is recreated; the JVM keeps a resolved address for 30 s by default, so a controller
 * probing a restarted broker reached its old address, found it refused and ended the lease of a live broker, and
 * fetchers connected to the old address until the entry expired. DNS (and its own TTL) stays the only cache.
 */
public final class FreshAddresses {
    private FreshAddresses() {}

    /** Call first thing in main, before anything resolves a name (the JVM reads the setting once). */
    public static void install() {
        Security.setProperty("networkaddress.cache.ttl", "0");
    }
}
