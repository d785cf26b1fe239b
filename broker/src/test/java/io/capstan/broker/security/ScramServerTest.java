package io.capstan.broker.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Optional;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.sasl.SaslException;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.ScramExtensionsCallback;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.security.scram.internals.ScramMessages.ClientFinalMessage;
import org.apache.kafka.common.security.scram.internals.ScramMessages.ClientFirstMessage;
import org.apache.kafka.common.security.scram.internals.ScramMessages.ServerFirstMessage;
import org.apache.kafka.common.security.scram.internals.ScramSaslClient;
import org.junit.jupiter.api.Test;

/** The SCRAM server against Kafka's own SCRAM client, and against the client-final messages other clients send. */
class ScramServerTest {
    static final ScramMechanism SHA512 = ScramMechanism.SCRAM_SHA_512;

    final ScramFormatter formatter = formatter();
    final ScramCredential alice = formatter.generateCredential("alice-secret", 4096);

    static ScramFormatter formatter() {
        try {
            return new ScramFormatter(SHA512);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    ScramServer server() {
        return new ScramServer(SHA512, user -> user.equals("alice") ? Optional.of(alice) : Optional.empty());
    }

    @Test
    void kafkasOwnClientAuthenticates() throws Exception {
        ScramSaslClient client = new ScramSaslClient(SHA512, callbacks -> {
            for (var c : callbacks) {
                if (c instanceof NameCallback n) {
                    n.setName("alice");
                } else if (c instanceof PasswordCallback p) {
                    p.setPassword("alice-secret".toCharArray());
                } else if (c instanceof ScramExtensionsCallback e) {
                    e.extensions(Map.of());
                }
            }
        });
        ScramServer server = server();
        byte[] serverFinal = server.evaluateResponse(client.evaluateChallenge(server.evaluateResponse(client.evaluateChallenge(new byte[0]))));
        client.evaluateChallenge(serverFinal); // checks the server's signature: it knows the credential
        assertThat(client.isComplete()).isTrue();
        assertThat(server.isComplete()).isTrue();
        assertThat(server.getAuthorizationID()).isEqualTo("alice");
    }

    /** A client-final message as a client computes it, with the nonce it chooses to echo. */
    private byte[] clientFinal(ClientFirstMessage first, ServerFirstMessage serverFirst, String nonce, String password) throws Exception {
        ClientFinalMessage fin = new ClientFinalMessage("n,,".getBytes(), nonce);
        byte[] salted = formatter.saltedPassword(password, serverFirst.salt(), serverFirst.iterations());
        fin.proof(formatter.clientProof(salted, first, serverFirst, fin));
        return fin.toBytes();
    }

    @Test
    void librdkafkasDoubledNonceIsAcceptedButNeverAWrongOne() throws Exception {
        ClientFirstMessage first = new ClientFirstMessage("alice", "client-nonce", Map.of());
        ScramServer server = server();
        ServerFirstMessage serverFirst = new ServerFirstMessage(server.evaluateResponse(first.toBytes()));
        assertThat(serverFirst.nonce()).startsWith("client-nonce");
        server.evaluateResponse(clientFinal(first, serverFirst, first.nonce() + serverFirst.nonce(), "alice-secret"));
        assertThat(server.isComplete()).as("librdkafka < 2.6.1 prepends its nonce once more").isTrue();

        for (String wrong : new String[] {first.nonce(), "client-nonce-made-up", serverFirst.nonce() + "x", "x" + serverFirst.nonce()}) {
            ScramServer s = server();
            ServerFirstMessage sf = new ServerFirstMessage(s.evaluateResponse(first.toBytes()));
            String nonce = wrong.equals("x" + serverFirst.nonce()) ? "x" + sf.nonce() : wrong.equals(serverFirst.nonce() + "x") ? sf.nonce() + "x" : wrong;
            byte[] fin = clientFinal(first, sf, nonce, "alice-secret");
            assertThatThrownBy(() -> s.evaluateResponse(fin)).as(nonce).isInstanceOf(SaslException.class).hasMessageContaining("nonce");
            assertThat(s.isComplete()).isFalse();
        }
    }

    @Test
    void aReplayedExchangeFailsBecauseEachServerNonceIsFresh() throws Exception {
        ClientFirstMessage first = new ClientFirstMessage("alice", "client-nonce", Map.of());
        ScramServer original = server();
        ServerFirstMessage sf = new ServerFirstMessage(original.evaluateResponse(first.toBytes()));
        byte[] recorded = clientFinal(first, sf, sf.nonce(), "alice-secret");
        original.evaluateResponse(recorded);
        ScramServer replay = server();
        replay.evaluateResponse(first.toBytes());
        assertThatThrownBy(() -> replay.evaluateResponse(recorded)).isInstanceOf(SaslException.class);
    }

    @Test
    void wrongPasswordsUnknownUsersAndForeignAuthorizationIdsFail() throws Exception {
        ClientFirstMessage first = new ClientFirstMessage("alice", "n1", Map.of());
        ScramServer server = server();
        ServerFirstMessage sf = new ServerFirstMessage(server.evaluateResponse(first.toBytes()));
        byte[] wrongPassword = clientFinal(first, sf, sf.nonce(), "guess");
        assertThatThrownBy(() -> server.evaluateResponse(wrongPassword)).hasMessageContaining("Invalid client proof");
        assertThatThrownBy(() -> server().evaluateResponse(new ClientFirstMessage("mallory", "n2", Map.of()).toBytes()))
                .hasMessageContaining("Invalid user credentials");
        assertThatThrownBy(() -> server().evaluateResponse("n,a=admin,n=alice,r=n3".getBytes()))
                .hasMessageContaining("authorization id");
        assertThatThrownBy(() -> server().evaluateResponse(new ClientFirstMessage("alice", "n4", Map.of("tokenauth", "true")).toBytes()))
                .hasMessageContaining("Unsupported SCRAM extensions");
    }
}
