package io.capstan.operator.certs;

import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.spec.Durations;
import java.time.Duration;

/**
 * How long what the operator issues lives: leaf certificates (brokers, users, the operator's own), the two CAs, and
 * how long before its end each is replaced.
 */
public record CertificatePolicy(Duration validity, Duration renewBefore, Duration caValidity) {
    /**
     * How long a new CA is trusted (in every trust bundle the operator writes) before certificates it signed are
     * served: Secret volumes reach pods within the kubelet's sync period (a minute by default) plus its cache TTL, so a
     * peer that has not seen the new bundle yet is not handed a certificate it cannot verify.
     */
    public static final Duration TRUST_PROPAGATION = Duration.ofMinutes(3);

    public static CertificatePolicy of(BrokerClusterSpec.Certificates spec) {
        BrokerClusterSpec.Certificates c = spec == null ? new BrokerClusterSpec.Certificates() : spec;
        return new CertificatePolicy(Durations.parse(c.validity), Durations.parse(c.renewBefore), Durations.parse(c.caValidity));
    }
}
