package io.capstan.operator.certs;

import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.spec.Durations;
import java.time.Duration;

/**
 * How long what the operator issues lives: leaf certificates (brokers, users, the operator's own), the two CAs, how
 * long before its end each is replaced, and how long a new CA is trusted before certificates it signed are served
 * ({@code trustPropagation}).
 */
public record CertificatePolicy(Duration validity, Duration renewBefore, Duration caValidity, Duration trustPropagation) {
    /**
     * The default trust propagation: Secret volumes reach pods within the kubelet's sync period (a minute by default)
     * plus its cache TTL, so a peer that has not seen the new bundle yet is not handed a certificate it cannot verify.
     * The chart's certificates.trustPropagation sets it (operator env CERT_TRUST_PROPAGATION).
     */
    public static final Duration TRUST_PROPAGATION = Duration.ofMinutes(3);

    public static CertificatePolicy of(BrokerClusterSpec.Certificates spec, Duration trustPropagation) {
        BrokerClusterSpec.Certificates c = spec == null ? new BrokerClusterSpec.Certificates() : spec;
        return new CertificatePolicy(Durations.parse(c.validity), Durations.parse(c.renewBefore), Durations.parse(c.caValidity),
                trustPropagation);
    }
}
