package io.capstan.broker.security;

import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;
import org.apache.kafka.common.security.scram.ScramExtensionsCallback;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.security.scram.internals.ScramSaslClient;

/** The client side of SASL for a broker talking to another broker (a follower to its leader), with Kafka's own SCRAM client. */
public final class SaslClients {
    private SaslClients() {}

    public static SaslClient create(String mechanism, String username, String password) {
        if (mechanism.equals("PLAIN")) {
            return new PlainClient(username, password);
        }
        ScramMechanism scram = ScramMechanism.forMechanismName(mechanism);
        if (scram == null) {
            throw new IllegalArgumentException("unsupported SASL mechanism " + mechanism);
        }
        try {
            return new ScramSaslClient(scram, callbacks -> {
                for (Callback c : callbacks) {
                    if (c instanceof NameCallback name) {
                        name.setName(username);
                    } else if (c instanceof PasswordCallback pw) {
                        pw.setPassword(password.toCharArray());
                    } else if (!(c instanceof ScramExtensionsCallback)) {
                        throw new UnsupportedCallbackException(c);
                    }
                }
            });
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM lacks " + scram.hashAlgorithm(), e);
        }
    }

    /** RFC 4616: one message, authorization id empty, then user and password. */
    private static final class PlainClient implements SaslClient {
        private final String username;
        private final String password;
        private boolean complete;

        PlainClient(String username, String password) {
            this.username = username;
            this.password = password;
        }

        @Override public String getMechanismName() { return "PLAIN"; }
        @Override public boolean hasInitialResponse() { return true; }
        @Override public boolean isComplete() { return complete; }
        @Override public Object getNegotiatedProperty(String name) { return null; }
        @Override public void dispose() { }

        @Override
        public byte[] evaluateChallenge(byte[] challenge) {
            complete = true;
            return ("\u0000" + username + "\u0000" + password).getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public byte[] unwrap(byte[] incoming, int offset, int len) throws SaslException {
            throw new SaslException("PLAIN has no security layer");
        }

        @Override
        public byte[] wrap(byte[] outgoing, int offset, int len) throws SaslException {
            throw new SaslException("PLAIN has no security layer");
        }
    }
}
