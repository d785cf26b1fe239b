package io.capstan.cluster.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.cluster.metadata.BrokerRegistration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OverdueRenewalsTest {
    private static final long LEASE = 6000;
    // renewals come every 2000 ms; overdue after 2000 + 500 (a twelfth of the lease)

    private static BrokerRegistration broker(int id, long leaseExpiresAtMs, long leaseMs) {
        return new BrokerRegistration(id, "127.0.0.1", 9000 + id, null, leaseExpiresAtMs, 0, Map.of(), leaseMs);
    }

    @Test
    void aRenewalIsOverdueAfterAThirdOfTheLeaseAndAGrace() {
        assertThat(OverdueRenewals.overdue(LEASE, 2500)).isFalse();
        assertThat(OverdueRenewals.overdue(LEASE, 2501)).isTrue();
        assertThat(OverdueRenewals.overdue(600, 400)).as("grace at least 200 ms").isFalse();
        assertThat(OverdueRenewals.overdue(600, 401)).isTrue();
        assertThat(OverdueRenewals.overdue(0, Long.MAX_VALUE)).as("a lease of unknown length is never overdue").isFalse();
    }

    @Test
    void aBrokerIsProbedOnlyWhenItsLeaseHasNotChangedForLongerThanARenewalInterval() {
        OverdueRenewals renewals = new OverdueRenewals();
        BrokerRegistration silent = broker(1, 16_000, LEASE);
        assertThat(renewals.dueForProbe(List.of(silent), 10_000)).as("first seen: its clock starts now").isEmpty();
        assertThat(renewals.dueForProbe(List.of(silent), 12_500)).isEmpty();
        assertThat(renewals.dueForProbe(List.of(silent), 12_501)).containsExactly(silent);
        assertThat(renewals.dueForProbe(List.of(silent), 12_700)).as("at most one probe per grace").isEmpty();
        assertThat(renewals.dueForProbe(List.of(silent), 13_001)).containsExactly(silent);
    }

    @Test
    void aRenewalRestartsTheClock() {
        OverdueRenewals renewals = new OverdueRenewals();
        renewals.dueForProbe(List.of(broker(1, 16_000, LEASE)), 10_000);
        BrokerRegistration renewed = broker(1, 18_000, LEASE);
        assertThat(renewals.dueForProbe(List.of(renewed), 12_600)).as("a new expiry is a renewal").isEmpty();
        assertThat(renewals.dueForProbe(List.of(renewed), 15_100)).isEmpty();
        assertThat(renewals.dueForProbe(List.of(renewed), 15_101)).containsExactly(renewed);
    }

    @Test
    void brokersThatAreNoLongerAliveAreForgotten() {
        OverdueRenewals renewals = new OverdueRenewals();
        BrokerRegistration one = broker(1, 16_000, LEASE);
        renewals.dueForProbe(List.of(one), 10_000);
        renewals.dueForProbe(List.of(), 11_000);
        assertThat(renewals.dueForProbe(List.of(one), 13_000)).as("seen again: a fresh start").isEmpty();
        assertThat(renewals.dueForProbe(List.of(one), 15_501)).containsExactly(one);
    }

    @Test
    void brokersWithoutAKnownLeaseLengthAreNeverProbed() {
        OverdueRenewals renewals = new OverdueRenewals();
        BrokerRegistration old = broker(1, 16_000, 0);
        renewals.dueForProbe(List.of(old), 10_000);
        assertThat(renewals.dueForProbe(List.of(old), 1_000_000)).isEmpty();
    }
}
