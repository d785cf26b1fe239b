package io.capstan.cluster.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.cluster.metadata.BrokerRegistration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OverdueRenewalsTest {
    private static final long HEARTBEAT = 1000;
    // overdue after 1000 + 250 (a quarter of the interval)

    private static BrokerRegistration broker(int id, long leaseExpiresAtMs, long heartbeatMs) {
        return new BrokerRegistration(id, "127.0.0.1", 9000 + id, null, leaseExpiresAtMs, 0, Map.of(), heartbeatMs, 0);
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
    void aBrokerIsProbedOnlyWhenItsLeaseHasNotChangedForLongerThanAnInterval() {
        OverdueRenewals renewals = new OverdueRenewals();
        BrokerRegistration silent = broker(1, 16_000, HEARTBEAT);
        assertThat(renewals.dueForProbe(List.of(silent), 10_000)).as("first seen: its clock starts now").isEmpty();
        assertThat(renewals.dueForProbe(List.of(silent), 11_250)).isEmpty();
        assertThat(renewals.dueForProbe(List.of(silent), 11_251)).containsExactly(silent);
        assertThat(renewals.dueForProbe(List.of(silent), 11_400)).as("at most one probe per grace").isEmpty();
        assertThat(renewals.dueForProbe(List.of(silent), 11_501)).containsExactly(silent);
    }

    @Test
    void aRenewalRestartsTheClock() {
        OverdueRenewals renewals = new OverdueRenewals();
        renewals.dueForProbe(List.of(broker(1, 16_000, HEARTBEAT)), 10_000);
        BrokerRegistration renewed = broker(1, 17_000, HEARTBEAT);
        assertThat(renewals.dueForProbe(List.of(renewed), 11_200)).as("a new expiry is a renewal").isEmpty();
        assertThat(renewals.dueForProbe(List.of(renewed), 12_450)).isEmpty();
        assertThat(renewals.dueForProbe(List.of(renewed), 12_451)).containsExactly(renewed);
    }

    @Test
    void brokersThatAreNoLongerAliveAreForgotten() {
        OverdueRenewals renewals = new OverdueRenewals();
        BrokerRegistration one = broker(1, 16_000, HEARTBEAT);
        renewals.dueForProbe(List.of(one), 10_000);
        renewals.dueForProbe(List.of(), 11_000);
        assertThat(renewals.dueForProbe(List.of(one), 12_000)).as("seen again: a fresh start").isEmpty();
        assertThat(renewals.dueForProbe(List.of(one), 13_251)).containsExactly(one);
    }

    @Test
    void brokersWithoutAKnownIntervalAreNeverProbed() {
        OverdueRenewals renewals = new OverdueRenewals();
        BrokerRegistration old = broker(1, 16_000, 0);
        renewals.dueForProbe(List.of(old), 10_000);
        assertThat(renewals.dueForProbe(List.of(old), 1_000_000)).isEmpty();
    }
}
