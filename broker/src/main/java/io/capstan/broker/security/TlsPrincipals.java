package io.capstan.broker.security;

import java.io.IOException;
import java.security.Principal;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.security.auth.x500.X500Principal;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.ssl.SslPrincipalMapper;

/**
 * The principal of a TLS client, as Kafka's default principal builder makes it: {@code User:} and the certificate
 * subject's distinguished name (RFC 2253) passed through {@code ssl.principal.mapping.rules}; ANONYMOUS without a
 * client certificate.
 */
public final class TlsPrincipals {
    private final SslPrincipalMapper mapper;

    public TlsPrincipals(String rules) {
        this.mapper = SslPrincipalMapper.fromRules(rules);
    }

    public KafkaPrincipal of(SSLSession session) {
        Principal peer;
        try {
            peer = session.getPeerPrincipal();
        } catch (SSLPeerUnverifiedException noCertificate) {
            return KafkaPrincipal.ANONYMOUS;
        }
        if (!(peer instanceof X500Principal x500)) {
            return new KafkaPrincipal(KafkaPrincipal.USER_TYPE, peer.getName());
        }
        return new KafkaPrincipal(KafkaPrincipal.USER_TYPE, map(x500.getName()));
    }

    String map(String distinguishedName) {
        try {
            return mapper.getName(distinguishedName);
        } catch (IOException e) {
            // Kafka refuses the connection when no rule matches; so do we, with the subject in the message
            throw new IllegalArgumentException("no ssl.principal.mapping.rules rule matches " + distinguishedName, e);
        }
    }
}
