package io.capstan.cluster.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.cluster.metadata.BrokerRegistration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OverdueRenewalsTest {
    private static final long HEARTBEAT = 1000;
    // overdue after 1000 + 250 (a quarter of the interval)

    private final Map<Integer, Long> renewedAt = new HashMap<>();
    private final OverdueRenewals renewals = new OverdueRenewals();

    private static BrokerRegistration broker(int id, long heartbeatMs) {
        return new BrokerRegistration(id, "127.0.0.1", 9000 + id, null, Long.MAX_VALUE, 0, Map.of(), heartbeatMs, 6000);
    }

    private List<BrokerRegistration> due(List<BrokerRegistration> alive, long nowMs) {
        return renewals.dueForProbe(alive, renewedAt::get, nowMs);
    }

    @Test
    void aRenewalIsOverdueAfterAHeartbeatIntervalAndAQuarter() {
        assertThat(OverdueRenewals.overdue(HEARTBEAT, 1250)).isFalse();
        assertThat(OverdueRenewals.overdue(HEARTBEAT, 1251)).isTrue();
        assertThat(OverdueRenewals.overdue(200, 300)).as("grace at least 100 ms").isFalse();
        assertThat(OverdueRenewals.overdue(200, 301)).isTrue();
        assertThat(OverdueRenewals.overdue(0, Long.MAX_VALUE)).as("an unknown interval is never overdue").isFalse();
    }

    @Test
    void aSilentBrokerIsProbedOncePerGrace() {
        BrokerRegistration silent = broker(1, HEARTBEAT);
        renewedAt.put(1, 10_000L);
        assertThat(due(List.of(silent), 11_250)).isEmpty();
        assertThat(due(List.of(silent), 11_251)).containsExactly(silent);
        assertThat(due(List.of(silent), 11_400)).as("at most one probe per grace").isEmpty();
        assertThat(due(List.of(silent), 11_501)).containsExactly(silent);
    }

    @Test
    void aRenewalStartsTheClockAgain() {
        BrokerRegistration b = broker(1, HEARTBEAT);
        renewedAt.put(1, 10_000L);
        assertThat(due(List.of(b), 11_300)).containsExactly(b);
        renewedAt.put(1, 11_350L);
        assertThat(due(List.of(b), 12_600)).isEmpty();
        assertThat(due(List.of(b), 12_601)).as("overdue again, whatever the last probe was").containsExactly(b);
    }

    @Test
    void brokersWithoutAKnownIntervalOrRenewalAreNeverProbed() {
        renewedAt.put(1, 10_000L);
        assertThat(due(List.of(broker(1, 0)), 1_000_000)).as("an older broker: no interval").isEmpty();
        assertThat(due(List.of(broker(2, HEARTBEAT)), 1_000_000)).as("no renewal seen").isEmpty();
    }
}
