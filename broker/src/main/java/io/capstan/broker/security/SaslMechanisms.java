package io.capstan.broker.security;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.SaslServer;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerExtensionsValidatorCallback;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallback;
import org.apache.kafka.common.security.oauthbearer.internals.OAuthBearerSaslServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.apache.kafka.common.security.plain.PlainAuthenticateCallback;
import org.apache.kafka.common.security.plain.internals.PlainSaslServer;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;

/**
 * Creates the server side of each SASL mechanism: PLAIN and OAUTHBEARER are Kafka's own implementations from
 * kafka-clients, SCRAM is {@link ScramServer} over Kafka's SCRAM codecs; the credentials come from Capstan's stores.
 * See docs/decisions/0008-security-on-kafkas-own-terms.md.
 */
public final class SaslMechanisms {
    private static final Logger log = LoggerFactory.getLogger(SaslMechanisms.class);
    private final ScramCredentialStore scram;
    private final PlainCredentials plain;
    private final JwtValidator jwt;

    public SaslMechanisms(ScramCredentialStore scram, PlainCredentials plain, JwtValidator jwt) {
        this.scram = scram;
        this.plain = plain;
        this.jwt = jwt;
    }

    public SaslServer create(String mechanism) {
        if (mechanism.equals("OAUTHBEARER")) {
            if (jwt == null) {
                throw new IllegalStateException("OAUTHBEARER is enabled without sasl.oauthbearer.jwks.endpoint.url");
            }
            return new OAuthBearerSaslServer(new AuthenticateCallbackHandler() {
                @Override
                public void configure(java.util.Map<String, ?> configs, String mechanism, java.util.List<javax.security.auth.login.AppConfigurationEntry> jaas) {
                    // configured by Capstan's settings, not JAAS
                }

                @Override
                public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
                    oauthCallbacks(callbacks);
                }

                @Override
                public void close() {
                    // nothing held
                }
            });
        }
        if (mechanism.equals("PLAIN")) {
            if (plain == null) {
                throw new IllegalStateException("PLAIN is enabled without sasl.plain.credentials.file");
            }
            return new PlainSaslServer(this::plainCallbacks);
        }
        ScramMechanism scramMechanism = ScramMechanism.forMechanismName(mechanism);
        if (scramMechanism == null) {
            throw new IllegalArgumentException("unsupported SASL mechanism " + mechanism);
        }
        return new ScramServer(scramMechanism, user -> scram.credential(user, scramMechanism));
    }

    private void oauthCallbacks(Callback[] callbacks) throws UnsupportedCallbackException {
        for (Callback callback : callbacks) {
            if (callback instanceof OAuthBearerValidatorCallback validation) {
                try {
                    validation.token(jwt.validate(validation.tokenValue()));
                } catch (JwtValidator.InvalidTokenException e) {
                    log.info("refused an OAUTHBEARER token: {}", e.getMessage());
                    validation.error("invalid_token", null, null);
                }
            } else if (callback instanceof OAuthBearerExtensionsValidatorCallback extensions) {
                // SASL extensions carry nothing Capstan uses; accept none of them rather than trust them
                extensions.inputExtensions().map().keySet().forEach(k -> extensions.error(k, "extensions are not supported"));
            } else {
                throw new UnsupportedCallbackException(callback);
            }
        }
    }

    private void plainCallbacks(Callback[] callbacks) throws UnsupportedCallbackException {
        String user = null;
        for (Callback callback : callbacks) {
            if (callback instanceof NameCallback name) {
                user = name.getDefaultName();
            } else if (callback instanceof PlainAuthenticateCallback auth) {
                auth.authenticated(user != null && plain.check(user, auth.password()));
            } else {
                throw new UnsupportedCallbackException(callback);
            }
        }
    }

}
