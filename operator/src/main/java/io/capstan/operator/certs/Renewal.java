package io.capstan.operator.certs;

import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import javax.security.auth.x500.X500Principal;

/**
 * When a CA or a certificate is replaced. Pure: certificates and the time in, a decision out.
 * <ul>
 *   <li>A CA is created when there is none and rotated once it is within renewBefore of its end (at most half its
 *       lifetime, so a renewBefore longer than the lifetime cannot rotate it on every pass). The old CA stays in the
 *       trust bundles until it expires.</li>
 *   <li>A certificate is reissued when it is missing, names other hosts or another subject, is within renewBefore of
 *       its end, or was signed by a CA that is no longer current, once the current one has been trusted for
 *       the policy's trust propagation (sooner if the certificate would expire first).</li>
 * </ul>
 */
public final class Renewal {
    private Renewal() {}

    public enum CaStep { CREATE, ROTATE, KEEP }

    /** What the certificate should be: its subject, host names and IP addresses. */
    public record Wanted(X500Principal subject, Set<String> dnsNames, Set<String> ipAddresses) {
        public Wanted {
            dnsNames = Set.copyOf(new TreeSet<>(dnsNames));
            ipAddresses = Set.copyOf(new TreeSet<>(ipAddresses));
        }

        public Wanted(X500Principal subject, Set<String> dnsNames) {
            this(subject, dnsNames, Set.of());
        }
    }

    public static CaStep ca(X509Certificate current, Instant now, CertificatePolicy policy) {
        if (current == null) {
            return CaStep.CREATE;
        }
        return now.isBefore(renewalTime(current, policy.renewBefore())) ? CaStep.KEEP : CaStep.ROTATE;
    }

    /** Whether a previous CA still belongs in the trust bundles. */
    public static boolean stillTrusted(X509Certificate previous, Instant now) {
        return previous != null && now.isBefore(previous.getNotAfter().toInstant());
    }

    /**
     * Why {@code leaf} must be issued again, or empty when it is good. A leaf of an older CA is not replaced by one
     * {@code ca} signs while {@code ca} is newer than the trust propagation (peers may not trust it yet), unless the
     * leaf would expire first.
     */
    public static Optional<String> leaf(X509Certificate leaf, Wanted wanted, X509Certificate ca, Instant now, CertificatePolicy policy) {
        if (leaf == null) {
            return Optional.of("none issued yet");
        }
        Optional<String> why = reason(leaf, wanted, ca, now, policy);
        Instant caServable = trustedSince(ca).plus(policy.trustPropagation());
        if (why.isPresent() && !signedBy(leaf, ca) && now.isBefore(caServable) && leaf.getNotAfter().toInstant().isAfter(caServable)) {
            return Optional.empty();
        }
        return why;
    }

    private static Optional<String> reason(X509Certificate leaf, Wanted wanted, X509Certificate ca, Instant now, CertificatePolicy policy) {
        if (!leaf.getSubjectX500Principal().equals(wanted.subject())) {
            return Optional.of("its subject is " + leaf.getSubjectX500Principal() + ", not " + wanted.subject());
        }
        Set<String> names = dnsNames(leaf);
        if (!names.equals(wanted.dnsNames())) {
            return Optional.of("it names " + names + ", not " + wanted.dnsNames());
        }
        Set<String> ips = ipAddresses(leaf);
        if (!ips.equals(wanted.ipAddresses())) {
            return Optional.of("it names the addresses " + ips + ", not " + wanted.ipAddresses());
        }
        if (!now.isBefore(renewalTime(leaf, policy.renewBefore()))) {
            return Optional.of("it expires at " + leaf.getNotAfter().toInstant() + " (renewed " + policy.renewBefore() + " before)");
        }
        if (!signedBy(leaf, ca)) {
            return Optional.of("it was signed by a CA that has been replaced");
        }
        return Optional.empty();
    }

    /** When the certificates signed by a new CA may be served: once it has been trusted for the propagation time. */
    public static Instant trustedSince(X509Certificate ca) {
        // CAs are created valid from a minute before their creation (CertificateAuthority), to allow for clock skew
        return ca.getNotBefore().toInstant().plusSeconds(60);
    }

    /** The next time anything here changes on its own (a renewal falling due), so a pass can be scheduled for it. */
    public static Instant nextDue(List<X509Certificate> certificates, X509Certificate ca, CertificatePolicy policy) {
        Instant next = Instant.MAX;
        for (X509Certificate c : certificates) {
            if (c == null) {
                continue;
            }
            Instant at = renewalTime(c, policy.renewBefore());
            if (ca != null) {
                Instant caServable = trustedSince(ca).plus(policy.trustPropagation());
                if (!signedBy(c, ca)) {
                    // a leaf of the previous CA moves to the new one as soon as the new one may be served, not before
                    at = caServable;
                }
            }
            next = at.isBefore(next) ? at : next;
        }
        return next;
    }

    /** A certificate's lifetime for one issued at {@code now} by {@code ca}: never past the CA's own end. */
    public static Instant notAfter(Instant now, Duration validity, X509Certificate ca) {
        Instant wanted = now.plus(validity);
        Instant caEnd = ca.getNotAfter().toInstant();
        return wanted.isBefore(caEnd) ? wanted : caEnd;
    }

    static Instant renewalTime(X509Certificate c, Duration renewBefore) {
        Instant from = c.getNotBefore().toInstant();
        Instant until = c.getNotAfter().toInstant();
        Duration half = Duration.between(from, until).dividedBy(2);
        Duration before = renewBefore.compareTo(half) > 0 ? half : renewBefore;
        return until.minus(before);
    }

    static boolean signedBy(X509Certificate leaf, X509Certificate ca) {
        if (!leaf.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) {
            return false;
        }
        try {
            leaf.verify(ca.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    static Set<String> dnsNames(X509Certificate c) {
        return alternativeNames(c, 2);
    }

    /** IP address SANs, in the form the JDK gives them (an IPv4 dotted quad; an IPv6 address in full). */
    static Set<String> ipAddresses(X509Certificate c) {
        Set<String> out = new TreeSet<>();
        alternativeNames(c, 7).forEach(ip -> out.add(canonicalIp(ip)));
        return out;
    }

    /** An IP literal as {@link #ipAddresses} reports it, so wanted and issued addresses compare equal. */
    public static String canonicalIp(String ip) {
        try {
            return java.net.InetAddress.getByName(ip).getHostAddress();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + ip, e);
        }
    }

    private static Set<String> alternativeNames(X509Certificate c, int type) {
        Set<String> names = new TreeSet<>();
        try {
            if (c.getSubjectAlternativeNames() != null) {
                c.getSubjectAlternativeNames().forEach(n -> {
                    if (Integer.valueOf(type).equals(n.get(0))) {
                        names.add((String) n.get(1));
                    }
                });
            }
        } catch (java.security.cert.CertificateParsingException e) {
            return Set.of();
        }
        return names;
    }
}
