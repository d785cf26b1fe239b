package io.capstan.broker.security;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;
import java.util.function.Function;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.security.scram.internals.ScramMessages.ClientFinalMessage;
import org.apache.kafka.common.security.scram.internals.ScramMessages.ClientFirstMessage;
import org.apache.kafka.common.security.scram.internals.ScramMessages.ServerFinalMessage;
import org.apache.kafka.common.security.scram.internals.ScramMessages.ServerFirstMessage;

/**
 * The server side of SCRAM (RFC 5802, RFC 7677), with Kafka's message codecs and key derivation. One deliberate
 * difference from Kafka 4: librdkafka before 2.6.1 (Debian's and Ubuntu's kcat, many language bindings) echoes the
 * server nonce with its own nonce prepended once more; Kafka 4 refuses those clients. Capstan accepts exactly that
 * form besides the correct one. The fresh server nonce must still be there, and the proof is checked over the
 * message as received, so a replayed exchange still fails (decision 0008).
 */
final class ScramServer implements SaslServer {
    private enum State { CLIENT_FIRST, CLIENT_FINAL, COMPLETE, FAILED }

    private final ScramMechanism mechanism;
    private final ScramFormatter formatter;
    private final Function<String, Optional<ScramCredential>> credentials;
    private State state = State.CLIENT_FIRST;
    private ClientFirstMessage clientFirst;
    private ServerFirstMessage serverFirst;
    private ScramCredential credential;
    private String username;

    ScramServer(ScramMechanism mechanism, Function<String, Optional<ScramCredential>> credentials) {
        this.mechanism = mechanism;
        this.credentials = credentials;
        try {
            this.formatter = new ScramFormatter(mechanism);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM lacks " + mechanism.hashAlgorithm(), e);
        }
    }

    @Override
    public byte[] evaluateResponse(byte[] response) throws SaslException {
        try {
            return switch (state) {
                case CLIENT_FIRST -> clientFirst(response);
                case CLIENT_FINAL -> clientFinal(response);
                default -> throw new SaslException("SCRAM exchange already " + state);
            };
        } catch (SaslException e) {
            state = State.FAILED;
            throw e;
        }
    }

    private byte[] clientFirst(byte[] response) throws SaslException {
        clientFirst = new ClientFirstMessage(response);
        if (!clientFirst.extensions().map().isEmpty()) {
            throw new SaslException("Unsupported SCRAM extensions " + clientFirst.extensions().map().keySet());
        }
        username = ScramFormatter.username(clientFirst.saslName());
        String authzid = clientFirst.authorizationId();
        if (!authzid.isEmpty() && !authzid.equals(username)) {
            throw new SaslException("Authentication failed: the authorization id differs from the user name");
        }
        credential = credentials.apply(username).orElseThrow(() -> new SaslException("Authentication failed: Invalid user credentials"));
        serverFirst = new ServerFirstMessage(clientFirst.nonce(), formatter.secureRandomString(), credential.salt(), credential.iterations());
        state = State.CLIENT_FINAL;
        return serverFirst.toBytes();
    }

    private byte[] clientFinal(byte[] response) throws SaslException {
        ClientFinalMessage clientFinal = new ClientFinalMessage(response);
        String nonce = clientFinal.nonce();
        if (!nonce.equals(serverFirst.nonce()) && !nonce.equals(clientFirst.nonce() + serverFirst.nonce())) {
            throw new SaslException("Invalid client nonce in the final client message.");
        }
        if (!MessageDigest.isEqual(clientFinal.channelBinding(), clientFirst.gs2Header().getBytes(StandardCharsets.UTF_8))) {
            throw new SaslException("Invalid channel binding in the final client message.");
        }
        try {
            byte[] signature = formatter.clientSignature(credential.storedKey(), clientFirst, serverFirst, clientFinal);
            byte[] storedKey = formatter.storedKey(signature, clientFinal.proof());
            if (!MessageDigest.isEqual(storedKey, credential.storedKey())) {
                throw new SaslException("Authentication failed: Invalid client proof");
            }
            byte[] serverSignature = formatter.serverSignature(credential.serverKey(), clientFirst, serverFirst, clientFinal);
            state = State.COMPLETE;
            return new ServerFinalMessage(null, serverSignature).toBytes();
        } catch (InvalidKeyException | IllegalArgumentException e) {
            throw new SaslException("Authentication failed: " + e.getMessage(), e);
        }
    }

    @Override
    public String getMechanismName() {
        return mechanism.mechanismName();
    }

    @Override
    public boolean isComplete() {
        return state == State.COMPLETE;
    }

    @Override
    public String getAuthorizationID() {
        if (!isComplete()) {
            throw new IllegalStateException("SCRAM authentication is not complete");
        }
        return username;
    }

    @Override
    public Object getNegotiatedProperty(String name) {
        return null;
    }

    @Override
    public byte[] unwrap(byte[] incoming, int offset, int len) throws SaslException {
        throw new SaslException("SCRAM has no security layer");
    }

    @Override
    public byte[] wrap(byte[] outgoing, int offset, int len) throws SaslException {
        throw new SaslException("SCRAM has no security layer");
    }

    @Override
    public void dispose() {
        credential = null;
    }
}
