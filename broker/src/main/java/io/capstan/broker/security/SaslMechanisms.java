package io.capstan.broker.security;

import java.security.NoSuchAlgorithmException;
import java.util.Map;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.SaslServer;
import org.apache.kafka.common.security.plain.PlainAuthenticateCallback;
import org.apache.kafka.common.security.plain.internals.PlainSaslServer;
import org.apache.kafka.common.security.scram.ScramCredentialCallback;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.security.scram.internals.ScramSaslServer;

/**
 * Creates the server side of each SASL mechanism. The exchanges themselves are Kafka's own implementations from
 * kafka-clients (so every client sees exactly Kafka's messages); the credentials come from Capstan's stores.
 * See docs/decisions/0008-security-on-kafka-sasl-servers.md.
 */
public final class SaslMechanisms {
    private final ScramCredentialStore scram;
    private final PlainCredentials plain;

    public SaslMechanisms(ScramCredentialStore scram, PlainCredentials plain) {
        this.scram = scram;
        this.plain = plain;
    }

    public SaslServer create(String mechanism) {
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
        try {
            return new ScramSaslServer(scramMechanism, Map.of(), callbacks -> scramCallbacks(scramMechanism, callbacks));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM lacks " + scramMechanism.hashAlgorithm(), e);
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

    private void scramCallbacks(ScramMechanism mechanism, Callback[] callbacks) throws UnsupportedCallbackException {
        String user = null;
        for (Callback callback : callbacks) {
            if (callback instanceof NameCallback name) {
                user = name.getDefaultName();
            } else if (callback instanceof ScramCredentialCallback credential) {
                // an unknown user gets no credential; Kafka's server then fails the exchange like a wrong password
                credential.scramCredential(user == null ? null : scram.credential(user, mechanism).orElse(null));
            } else if (callback instanceof org.apache.kafka.common.security.token.delegation.internals.DelegationTokenCredentialCallback) {
                // delegation tokens are not supported: leave the callback empty, so a token login fails
            } else if (callback instanceof org.apache.kafka.common.security.scram.ScramExtensionsCallback) {
                // no SCRAM extensions are used
            } else {
                throw new UnsupportedCallbackException(callback);
            }
        }
    }
}
