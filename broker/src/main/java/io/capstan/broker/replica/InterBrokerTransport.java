package io.capstan.broker.replica;

import io.capstan.config.Listener;
import io.capstan.config.Security;
import io.capstan.broker.security.ReloadingFiles;
import io.capstan.broker.security.SaslClients;
import io.capstan.broker.security.TlsContexts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

/**
 * How a follower reaches its leader over the inter-broker listener: a plain or TLS socket (this broker's certificate
 * for mTLS, the leader's checked against its advertised host unless ssl.endpoint.identification.algorithm is empty),
 * then SASL when the listener asks for it, as the broker's own principal, so the leader can tell a replica from a
 * client claiming to be one.
 */
public final class InterBrokerTransport {
    /**
     * Rebuilt when the key or trust store changes on disk, as the listeners' are: after a certificate or CA rotation a
     * follower's next connection presents the new certificate and trusts the new CA (a context built once at start
     * would refuse a leader's renewed certificate at the first reconnect after the old CA is dropped).
     */
    private final ReloadingFiles<SSLContext> tls;
    private final boolean verifyHostname;
    private final String mechanism;
    private final String username;
    private final String password;
    private final boolean alone;

    private InterBrokerTransport(ReloadingFiles<SSLContext> tls, boolean verifyHostname, String mechanism, String username, String password) {
        this.tls = tls;
        this.verifyHostname = verifyHostname;
        this.mechanism = mechanism;
        this.username = username;
        this.password = password;
        this.alone = false;
    }

    private InterBrokerTransport() {
        this.tls = null;
        this.verifyHostname = false;
        this.mechanism = null;
        this.username = null;
        this.password = null;
        this.alone = true;
    }

    public static InterBrokerTransport plaintext() {
        return new InterBrokerTransport(null, false, null, null, null);
    }

    /** A cluster of one has no other broker to reach, so it needs no inter-broker credentials. */
    public static InterBrokerTransport alone() {
        return new InterBrokerTransport();
    }

    public static InterBrokerTransport of(Security security) {
        Listener listener = security.interBroker();
        Security.InterBrokerClient client = security.interBrokerClient();
        if (listener.sasl() && client.username().isEmpty()) {
            throw new io.capstan.config.ConfigException("the inter-broker listener " + listener.name() + " uses SASL: set "
                    + "inter.broker.sasl.username and inter.broker.sasl.password (a user with ClusterAction)");
        }
        return new InterBrokerTransport(listener.tls() ? clientContext(listener, security.ssl().get(listener.name())) : null,
                client.verifyHostname(), listener.sasl() ? client.saslMechanism() : null, client.username(), client.password());
    }

    private static ReloadingFiles<SSLContext> clientContext(Listener listener, io.capstan.config.SslSettings ssl) {
        return new ReloadingFiles<>("TLS key and trust stores of the replication client (listener " + listener.name() + ")",
                TlsContexts.storeFiles(ssl), () -> TlsContexts.client(ssl), System::currentTimeMillis, 1_000);
    }

    /** A TCP connection to the leader's inter-broker listener, not yet secured ({@link #secure}). */
    Socket connect(String host, int port, int timeoutMs) throws IOException {
        if (alone) {
            throw new IOException("this broker is a cluster of one (embedded metadata store): it has no other broker to reach at "
                    + host + ":" + port);
        }
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(host, port), timeoutMs);
            socket.setSoTimeout(timeoutMs);
            socket.setTcpNoDelay(true);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** The connection as the listener needs it: itself in the clear, or TLS layered over it (closing either closes both). */
    Socket secure(Socket socket, String host, int port) throws IOException {
        if (tls == null) {
            return socket;
        }
        try {
            // layered over the connected socket with the host named, so the engine checks the certificate against it
            SSLSocket ssl = (SSLSocket) tls.current().getSocketFactory().createSocket(socket, host, port, true);
            if (verifyHostname) {
                SSLParameters params = ssl.getSSLParameters();
                params.setEndpointIdentificationAlgorithm("HTTPS");
                ssl.setSSLParameters(params);
            }
            ssl.startHandshake();
            return ssl;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    void authenticate(LeaderConnection connection) throws IOException {
        if (mechanism == null) {
            return;
        }
        SaslHandshakeResponseData handshake = connection.send(ApiKeys.SASL_HANDSHAKE, (short) 1, new SaslHandshakeRequestData().setMechanism(mechanism));
        if (handshake.errorCode() != Errors.NONE.code()) {
            throw new IOException("the leader refused SASL mechanism " + mechanism + " (" + Errors.forCode(handshake.errorCode())
                    + "; it offers " + handshake.mechanisms() + ")");
        }
        SaslClient client = SaslClients.create(mechanism, username, password);
        try {
            byte[] token = client.hasInitialResponse() ? client.evaluateChallenge(new byte[0]) : new byte[0];
            while (true) {
                SaslAuthenticateResponseData r = connection.send(ApiKeys.SASL_AUTHENTICATE, (short) 2, new SaslAuthenticateRequestData().setAuthBytes(token));
                if (r.errorCode() != Errors.NONE.code()) {
                    throw new IOException("the leader refused this broker's credentials (user " + username + "): " + r.errorMessage());
                }
                if (client.isComplete()) {
                    return;
                }
                token = client.evaluateChallenge(r.authBytes());
                if (client.isComplete() && token == null) {
                    return;
                }
            }
        } catch (SaslException e) {
            throw new IOException("SASL with the leader failed: " + e.getMessage(), e);
        } finally {
            client.dispose();
        }
    }
}
