package io.capstan.operator.certs;

import io.capstan.certs.CertificateAuthority;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** One of a cluster's two CAs as its Secret keeps it: the current CA and, during a rotation, the one it replaced. */
public record Authority(CertificateAuthority current, X509Certificate previous) {
    /** What peers must trust: the current CA, and the previous one until it expires. */
    public List<X509Certificate> trusted(Instant now) {
        List<X509Certificate> out = new ArrayList<>();
        out.add(current.certificate());
        if (Renewal.stillTrusted(previous, now)) {
            out.add(previous);
        }
        return out;
    }
}
