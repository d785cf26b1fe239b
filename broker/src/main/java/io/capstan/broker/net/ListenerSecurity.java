package io.capstan.broker.net;

import io.capstan.broker.security.LoginThrottle;
import io.capstan.config.Listener;
import io.capstan.config.SaslSettings;
import io.capstan.broker.security.ReloadingFiles;
import io.netty.handler.ssl.SslContext;
import io.capstan.broker.security.SaslMechanisms;
import io.capstan.broker.security.TlsPrincipals;

/**
 * How one listener authenticates its connections: TLS (its context and how a certificate becomes a principal) and
 * SASL (its settings and mechanisms); either absent when the listener's protocol does not use it.
 */
public record ListenerSecurity(Listener listener, ReloadingFiles<SslContext> tls, TlsPrincipals tlsPrincipals,
                               SaslSettings sasl, SaslMechanisms mechanisms, LoginThrottle throttle) {
}
