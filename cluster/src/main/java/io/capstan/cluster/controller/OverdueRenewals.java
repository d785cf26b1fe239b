package io.capstan.cluster.controller;

import io.capstan.cluster.metadata.BrokerRegistration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Which live brokers' lease renewals are overdue, by the controller's own clock: when it first saw each broker's current
 * lease (a renewal writes a new expiry), not the broker's clock, so clock skew between machines plays no part. A broker
 * renews every heartbeat interval; one whose lease has not changed for that long plus a grace is worth a
 * {@link ProcessProbe}, at most once per grace. Nothing here ends a lease: it only says whom to ask.
 */
final class OverdueRenewals {
    private record Seen(long leaseExpiresAtMs, long sinceMs, long probedMs) {}

    private final Map<Integer, Seen> seen = new ConcurrentHashMap<>();

    /** The live brokers to probe now, given what the controller sees of them at {@code nowMs}. */
    List<BrokerRegistration> dueForProbe(Collection<BrokerRegistration> alive, long nowMs) {
        seen.keySet().retainAll(alive.stream().map(BrokerRegistration::id).collect(Collectors.toSet()));
        return alive.stream().filter(b -> {
            Seen last = seen.get(b.id());
            if (last == null || last.leaseExpiresAtMs() != b.leaseExpiresAtMs()) {
                seen.put(b.id(), new Seen(b.leaseExpiresAtMs(), nowMs, Long.MIN_VALUE));
                return false;
            }
            if (!overdue(b.heartbeatMs(), nowMs - last.sinceMs())
                    || (last.probedMs() != Long.MIN_VALUE && nowMs - last.probedMs() < grace(b.heartbeatMs()))) {
                return false;
            }
            seen.put(b.id(), new Seen(last.leaseExpiresAtMs(), last.sinceMs(), nowMs));
            return true;
        }).toList();
    }

    /** A renewal is overdue once a heartbeat interval and a grace have passed without one (never for an unknown interval). */
    static boolean overdue(long heartbeatMs, long sinceRenewalMs) {
        return heartbeatMs > 0 && sinceRenewalMs > heartbeatMs + grace(heartbeatMs);
    }

    /** Slack for a renewal's own round trip and the watch's delivery: a quarter of the interval, at least 100 ms. */
    static long grace(long heartbeatMs) {
        return Math.max(100, heartbeatMs / 4);
    }
}
