package io.capstan.broker.security;

import io.capstan.config.SaslSettings;
import java.util.function.LongSupplier;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * The SASL state of one connection on a SASL listener, as Kafka's broker keeps it: SaslHandshake picks a mechanism,
 * SaslAuthenticate carries its exchange, and only then may the client send anything but ApiVersions. With
 * {@code connections.max.reauth.ms} a session ends: the client re-authenticates over the same connection (KIP-368),
 * as the same principal, or is disconnected at its next request. Not thread-safe: the connection's event loop owns it.
 */
public final class SaslSession {
    enum State { HANDSHAKE, AUTHENTICATE, AUTHENTICATED, FAILED }

    /** What to send, and whether the connection must close after it (Kafka closes after a failed exchange). */
    public record Reply<T>(T response, boolean closeAfter, boolean authenticatedNow) {}

    private final SaslSettings settings;
    private final SaslMechanisms mechanisms;
    private final LongSupplier clockMs;
    private State state = State.HANDSHAKE;
    private SaslServer server;
    private String mechanism;
    private KafkaPrincipal principal;
    private long expiresAtMs = Long.MAX_VALUE;
    private boolean reauthenticating;
    private String failureReason;

    public SaslSession(SaslSettings settings, SaslMechanisms mechanisms, LongSupplier clockMs) {
        this.settings = settings;
        this.mechanisms = mechanisms;
        this.clockMs = clockMs;
    }

    /** Whether a request of this API may be handled now; anything else closes the connection. */
    public boolean allows(ApiKeys api) {
        if (api == ApiKeys.API_VERSIONS) {
            return true;
        }
        return switch (state) {
            case HANDSHAKE -> api == ApiKeys.SASL_HANDSHAKE;
            case AUTHENTICATE -> api == ApiKeys.SASL_AUTHENTICATE;
            case AUTHENTICATED -> api == ApiKeys.SASL_HANDSHAKE || !expired();
            case FAILED -> false;
        };
    }

    public boolean expired() {
        return clockMs.getAsLong() >= expiresAtMs;
    }

    public KafkaPrincipal principal() {
        return principal;
    }

    public Reply<SaslHandshakeResponseData> handshake(SaslHandshakeRequestData request, short version) {
        SaslHandshakeResponseData response = new SaslHandshakeResponseData().setMechanisms(settings.enabledMechanisms());
        if (state != State.HANDSHAKE && state != State.AUTHENTICATED) {
            state = State.FAILED;
            return new Reply<>(response.setErrorCode(Errors.ILLEGAL_SASL_STATE.code()), true, false);
        }
        if (version < 1) {
            // v0 is followed by raw SASL tokens outside Kafka framing (clients before Kafka 1.0); it is advertised
            // because librdkafka looks for v0 before it uses v1, but only v1 with SaslAuthenticate is spoken
            state = State.FAILED;
            return new Reply<>(response.setErrorCode(Errors.UNSUPPORTED_VERSION.code()), true, false);
        }
        if (!settings.enabledMechanisms().contains(request.mechanism())) {
            state = State.FAILED;
            return new Reply<>(response.setErrorCode(Errors.UNSUPPORTED_SASL_MECHANISM.code()), true, false);
        }
        if (state == State.AUTHENTICATED) {
            if (!request.mechanism().equals(mechanism)) {
                state = State.FAILED;
                return new Reply<>(response.setErrorCode(Errors.ILLEGAL_SASL_STATE.code()), true, false);
            }
            reauthenticating = true;
        }
        mechanism = request.mechanism();
        server = mechanisms.create(mechanism);
        state = State.AUTHENTICATE;
        return new Reply<>(response.setErrorCode(Errors.NONE.code()), false, false);
    }

    public Reply<SaslAuthenticateResponseData> authenticate(SaslAuthenticateRequestData request, short version) {
        SaslAuthenticateResponseData response = new SaslAuthenticateResponseData();
        if (state != State.AUTHENTICATE) {
            state = State.FAILED;
            return new Reply<>(response.setErrorCode(Errors.ILLEGAL_SASL_STATE.code())
                    .setErrorMessage("SaslAuthenticate before SaslHandshake"), true, false);
        }
        byte[] challenge;
        try {
            challenge = server.evaluateResponse(request.authBytes());
        } catch (SaslException | AuthenticationException e) {
            failureReason = e.getMessage();
            return fail(response, "Authentication failed during authentication due to invalid credentials with SASL mechanism " + mechanism);
        }
        response.setAuthBytes(challenge == null ? new byte[0] : challenge);
        if (!server.isComplete()) {
            return new Reply<>(response.setErrorCode(Errors.NONE.code()), false, false);
        }
        KafkaPrincipal authenticatedAs = new KafkaPrincipal(KafkaPrincipal.USER_TYPE, server.getAuthorizationID());
        Object credentialExpiry = server.getNegotiatedProperty("CREDENTIAL.LIFETIME.MS");
        dispose();
        if (reauthenticating && !authenticatedAs.equals(principal)) {
            return fail(response, "Cannot change principals during re-authentication from " + principal + " to " + authenticatedAs);
        }
        principal = authenticatedAs;
        reauthenticating = false;
        state = State.AUTHENTICATED;
        if (settings.reauthMs() > 0) {
            long now = clockMs.getAsLong();
            // a session never outlives its credential (an OAUTHBEARER token's expiry), as in Kafka
            long lifetime = credentialExpiry instanceof Long expiry ? Math.min(settings.reauthMs(), Math.max(0, expiry - now)) : settings.reauthMs();
            expiresAtMs = now + lifetime;
            if (version >= 1) {
                response.setSessionLifetimeMs(lifetime);
            }
        }
        return new Reply<>(response.setErrorCode(Errors.NONE.code()), false, true);
    }

    private Reply<SaslAuthenticateResponseData> fail(SaslAuthenticateResponseData response, String message) {
        state = State.FAILED;
        reauthenticating = false;
        dispose();
        return new Reply<>(response.setErrorCode(Errors.SASL_AUTHENTICATION_FAILED.code()).setErrorMessage(message)
                .setAuthBytes(new byte[0]), true, false);
    }

    /** Why the last exchange failed, for the broker's log (never sent to the client). */
    public String failureReason() {
        return failureReason;
    }

    public String mechanism() {
        return mechanism;
    }

    public void dispose() {
        if (server != null) {
            try {
                server.dispose();
            } catch (SaslException e) {
                // nothing held that matters
            }
            server = null;
        }
    }

}
