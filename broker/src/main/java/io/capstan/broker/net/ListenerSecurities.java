package io.capstan.broker.net;

import io.capstan.config.OAuthSettings;
import io.capstan.broker.security.JwtValidator;
import io.capstan.broker.security.LoginThrottle;
import io.capstan.config.Listener;
import io.capstan.config.SaslSettings;
import io.capstan.config.Security;
import io.capstan.config.SslSettings;
import io.capstan.broker.security.PlainCredentials;
import io.capstan.broker.security.ReloadingFiles;
import io.capstan.broker.security.TlsContexts;
import io.capstan.broker.security.SaslMechanisms;
import io.capstan.broker.security.ScramCredentialStore;
import io.capstan.broker.security.TlsPrincipals;
import io.netty.handler.ssl.SslContext;
import java.nio.file.Path;
import java.util.List;

/** Builds each listener's TLS and SASL machinery from the security settings; fails at start-up on unusable material. */
public final class ListenerSecurities {
    private ListenerSecurities() {}

    public static List<ListenerSecurity> of(Security security, ScramCredentialStore scram) {
        // sasl.plain.credentials.file is one broker-wide setting, read once whichever listeners offer PLAIN
        PlainCredentials plain = security.sasl().values().stream().filter(s -> s.enabledMechanisms().contains("PLAIN")).findFirst()
                .map(s -> new PlainCredentials(Path.of(s.plainCredentialsFile()))).orElse(null);
        OAuthSettings oauth = security.sasl().values().stream().map(SaslSettings::oauth)
                .filter(java.util.Objects::nonNull).findFirst().orElse(null);
        SaslMechanisms mechanisms = new SaslMechanisms(scram, plain, oauth == null ? null : new JwtValidator(oauth));
        // one throttle for every listener: a guesser cannot reset its delay by switching ports
        LoginThrottle throttle = new LoginThrottle(
                security.sasl().values().stream().mapToLong(SaslSettings::failedAuthenticationDelayMs).max().orElse(0),
                System::currentTimeMillis);
        return security.listeners().stream().map(l -> of(l, security, mechanisms, throttle)).toList();
    }

    /** The listener's TLS context, rebuilt when its key or trust store changes on disk (certificate rotation). */
    private static ReloadingFiles<SslContext> tlsContext(Listener listener, SslSettings ssl) {
        return new ReloadingFiles<>("TLS key and trust stores of listener " + listener.name(), TlsContexts.storeFiles(ssl), () -> TlsContexts.server(ssl),
                System::currentTimeMillis, 1_000);
    }

    private static ListenerSecurity of(Listener listener, Security security, SaslMechanisms mechanisms,
                                       LoginThrottle throttle) {
        SslSettings ssl = security.ssl().get(listener.name());
        SaslSettings sasl = security.sasl().get(listener.name());
        return new ListenerSecurity(listener,
                ssl == null ? null : tlsContext(listener, ssl),
                ssl == null ? null : new TlsPrincipals(ssl.principalMappingRules()),
                sasl, sasl == null ? null : mechanisms, sasl == null ? null : throttle);
    }
}
