package io.capstan.cluster.controller;

import io.capstan.cluster.metadata.BrokerRegistration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Which live brokers' lease renewals are overdue: the cluster view times each renewal's arrival by the controller's own
 * clock (decision 0015), and a broker renews every heartbeat interval, so one not heard from for that long plus a grace
 * is worth a {@link ProcessProbe}, at most once per grace. Nothing here ends a lease: it only says whom to ask.
 */
final class OverdueRenewals {
    private final Map<Integer, Long> probedAt = new ConcurrentHashMap<>();

    /**
     * The live brokers to probe now. {@code renewedAt} gives when each broker's latest renewal arrived (null when
     * unknown: not probed).
     */
    List<BrokerRegistration> dueForProbe(Collection<BrokerRegistration> alive, Function<Integer, Long> renewedAt, long nowMs) {
        probedAt.keySet().retainAll(alive.stream().map(BrokerRegistration::id).collect(Collectors.toSet()));
        return alive.stream().filter(b -> {
            Long renewed = renewedAt.apply(b.id());
            if (renewed == null || !overdue(b.heartbeatMs(), nowMs - renewed)) {
                return false;
            }
            Long probed = probedAt.get(b.id());
            if (probed != null && probed >= renewed && nowMs - probed < grace(b.heartbeatMs())) {
                return false;
            }
            probedAt.put(b.id(), nowMs);
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
