package io.capstan.operator.certs;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.certs.CertificateAuthority;
import io.capstan.certs.IssuedCertificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.Test;

class RenewalTest {
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    static final CertificatePolicy POLICY = new CertificatePolicy(Duration.ofDays(30), Duration.ofDays(10), Duration.ofDays(365), Duration.ofMinutes(3));
    static final X500Principal BROKER = new X500Principal("CN=prod-broker,O=capstan");
    static final Renewal.Wanted WANTED = new Renewal.Wanted(BROKER, Set.of("prod-0.prod-brokers.shop.svc", "prod.shop.svc"));

    static CertificateAuthority ca(Instant at, Duration validity) {
        return CertificateAuthority.create(new X500Principal("CN=prod-cluster-ca,O=capstan"), at, validity);
    }

    static X509Certificate leaf(CertificateAuthority ca, Instant at, Duration validity, String subject, String... dns) {
        IssuedCertificate issued = ca.issue(new CertificateAuthority.Request(subject, List.of(dns), List.of(), at.minusSeconds(60), at.plus(validity)));
        return issued.certificate();
    }

    @Test
    void aMissingCaIsCreatedAndAYoungOneKept() {
        assertThat(Renewal.ca(null, T0, POLICY)).isEqualTo(Renewal.CaStep.CREATE);
        CertificateAuthority ca = ca(T0, POLICY.caValidity());
        assertThat(Renewal.ca(ca.certificate(), T0.plus(Duration.ofDays(354)), POLICY)).isEqualTo(Renewal.CaStep.KEEP);
        assertThat(Renewal.ca(ca.certificate(), T0.plus(Duration.ofDays(355)), POLICY)).isEqualTo(Renewal.CaStep.ROTATE);
    }

    @Test
    void aRenewBeforeLongerThanHalfTheLifetimeRenewsAtHalfTime() {
        CertificatePolicy eager = new CertificatePolicy(Duration.ofDays(30), Duration.ofDays(300), Duration.ofDays(100), Duration.ofMinutes(3));
        CertificateAuthority ca = ca(T0, Duration.ofDays(100));
        // the CA is valid from a minute before T0: half its life is reached just before day 50
        assertThat(Renewal.ca(ca.certificate(), T0.plus(Duration.ofDays(49)), eager)).isEqualTo(Renewal.CaStep.KEEP);
        assertThat(Renewal.ca(ca.certificate(), T0.plus(Duration.ofDays(50)), eager)).isEqualTo(Renewal.CaStep.ROTATE);
    }

    @Test
    void aLeafIsIssuedWhenMissingAndKeptWhileGood() {
        CertificateAuthority ca = ca(T0, POLICY.caValidity());
        assertThat(Renewal.leaf(null, WANTED, ca.certificate(), T0, POLICY)).contains("none issued yet");
        X509Certificate leaf = leaf(ca, T0, POLICY.validity(), BROKER.getName(), "prod-0.prod-brokers.shop.svc", "prod.shop.svc");
        assertThat(Renewal.leaf(leaf, WANTED, ca.certificate(), T0.plus(Duration.ofDays(19)), POLICY)).isEmpty();
    }

    @Test
    void aLeafIsRenewedWithinRenewBeforeOfItsEnd() {
        CertificateAuthority ca = ca(T0, POLICY.caValidity());
        X509Certificate leaf = leaf(ca, T0, POLICY.validity(), BROKER.getName(), "prod-0.prod-brokers.shop.svc", "prod.shop.svc");
        assertThat(Renewal.leaf(leaf, WANTED, ca.certificate(), T0.plus(Duration.ofDays(20)), POLICY)).hasValueSatisfying(
                why -> assertThat(why).startsWith("it expires at"));
    }

    @Test
    void aLeafNamingOtherHostsOrAnotherSubjectIsReissued() {
        CertificateAuthority ca = ca(T0, POLICY.caValidity());
        X509Certificate fewer = leaf(ca, T0, POLICY.validity(), BROKER.getName(), "prod-0.prod-brokers.shop.svc");
        assertThat(Renewal.leaf(fewer, WANTED, ca.certificate(), T0, POLICY)).hasValueSatisfying(why -> assertThat(why).startsWith("it names"));
        X509Certificate other = leaf(ca, T0, POLICY.validity(), "CN=someone-else", "prod-0.prod-brokers.shop.svc", "prod.shop.svc");
        assertThat(Renewal.leaf(other, WANTED, ca.certificate(), T0, POLICY)).hasValueSatisfying(why -> assertThat(why).startsWith("its subject"));
    }

    @Test
    void aLeafOfAReplacedCaMovesToTheNewOneOnlyOnceTheNewCaHadTimeToBeTrusted() {
        CertificateAuthority old = ca(T0, POLICY.caValidity());
        X509Certificate leaf = leaf(old, T0, POLICY.validity(), BROKER.getName(), "prod-0.prod-brokers.shop.svc", "prod.shop.svc");
        Instant rotated = T0.plus(Duration.ofDays(1));
        CertificateAuthority fresh = ca(rotated, POLICY.caValidity());
        assertThat(Renewal.signedBy(leaf, fresh.certificate())).isFalse();
        assertThat(Renewal.leaf(leaf, WANTED, fresh.certificate(), rotated.plus(POLICY.trustPropagation()).minusSeconds(1), POLICY))
                .as("peers may not trust the new CA yet").isEmpty();
        assertThat(Renewal.leaf(leaf, WANTED, fresh.certificate(), rotated.plus(POLICY.trustPropagation()), POLICY))
                .contains("it was signed by a CA that has been replaced");
        assertThat(Renewal.nextDue(List.of(leaf), fresh.certificate(), POLICY)).isEqualTo(rotated.plus(POLICY.trustPropagation()));
    }

    @Test
    void aRenewalFallingDueWhileTheCaIsNewWaitsUntilPeersTrustItUnlessTheLeafWouldExpireFirst() {
        CertificateAuthority old = ca(T0, POLICY.caValidity());
        X509Certificate leaf = leaf(old, T0, POLICY.validity(), BROKER.getName(), "prod-0.prod-brokers.shop.svc", "prod.shop.svc");
        Instant due = T0.plus(Duration.ofDays(20)); // within renewBefore of the leaf's end
        CertificateAuthority fresh = ca(due, POLICY.caValidity());
        assertThat(Renewal.leaf(leaf, WANTED, fresh.certificate(), due, POLICY)).as("the new CA is not trusted everywhere yet").isEmpty();
        assertThat(Renewal.leaf(leaf, WANTED, fresh.certificate(), due.plus(POLICY.trustPropagation()), POLICY))
                .hasValueSatisfying(why -> assertThat(why).startsWith("it expires at"));
        assertThat(Renewal.nextDue(List.of(leaf), fresh.certificate(), POLICY)).isEqualTo(due.plus(POLICY.trustPropagation()));

        X509Certificate expiring = leaf(old, T0, Duration.ofMinutes(2), BROKER.getName(), "prod-0.prod-brokers.shop.svc", "prod.shop.svc");
        CertificateAuthority justMade = ca(T0, POLICY.caValidity());
        assertThat(Renewal.leaf(expiring, WANTED, justMade.certificate(), T0.plus(Duration.ofMinutes(1)), POLICY))
                .as("ends before the new CA may be served: renewed at once").isPresent();
    }

    @Test
    void aLeafNeverOutlivesItsCaAndAPreviousCaIsTrustedUntilItEnds() {
        CertificateAuthority ca = ca(T0, Duration.ofDays(10));
        assertThat(Renewal.notAfter(T0, Duration.ofDays(30), ca.certificate())).isEqualTo(ca.certificate().getNotAfter().toInstant());
        assertThat(Renewal.notAfter(T0, Duration.ofDays(1), ca.certificate())).isEqualTo(T0.plus(Duration.ofDays(1)));
        assertThat(Renewal.stillTrusted(ca.certificate(), T0.plus(Duration.ofDays(9)))).isTrue();
        assertThat(Renewal.stillTrusted(ca.certificate(), T0.plus(Duration.ofDays(10)))).isFalse();
        assertThat(Renewal.stillTrusted(null, T0)).isFalse();
    }

    @Test
    void theNextDueIsTheEarliestRenewal() {
        CertificateAuthority ca = ca(T0, POLICY.caValidity());
        X509Certificate leaf = leaf(ca, T0, POLICY.validity(), BROKER.getName(), "prod.shop.svc");
        assertThat(Renewal.nextDue(List.of(leaf, ca.certificate()), ca.certificate(), POLICY))
                .isEqualTo(leaf.getNotAfter().toInstant().minus(POLICY.renewBefore()));
    }

    @Test
    void aLeafNamingOtherIpAddressesIsIssuedAgainAndTheSameAddressesWrittenDifferentlyAreTheSame() {
        CertificateAuthority ca = ca(T0, POLICY.caValidity());
        Renewal.Wanted withIps = new Renewal.Wanted(BROKER, WANTED.dnsNames(), Set.of("10.1.0.7", Renewal.canonicalIp("2001:db8::1")));
        X509Certificate leaf = ca.issue(new CertificateAuthority.Request(BROKER.getName(), List.copyOf(WANTED.dnsNames()),
                List.of("10.1.0.7", "2001:db8:0:0:0:0:0:1"), T0.minusSeconds(60), T0.plus(POLICY.validity()))).certificate();
        assertThat(Renewal.leaf(leaf, withIps, ca.certificate(), T0, POLICY)).isEmpty();
        Renewal.Wanted moved = new Renewal.Wanted(BROKER, WANTED.dnsNames(), Set.of("10.1.0.8"));
        assertThat(Renewal.leaf(leaf, moved, ca.certificate(), T0, POLICY)).hasValueSatisfying(why -> assertThat(why)
                .isEqualTo("it names the addresses [10.1.0.7, 2001:db8:0:0:0:0:0:1], not [10.1.0.8]"));
        assertThat(Renewal.leaf(leaf, WANTED, ca.certificate(), T0, POLICY)).as("no addresses wanted any more").isPresent();
    }
}
