package io.capstan.broker.kafka;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.Errors;

/**
 * SaslHandshake and SaslAuthenticate where no SASL exchange is expected: on a listener without SASL, answered with
 * ILLEGAL_SASL_STATE as Kafka does. On SASL listeners the network layer runs the exchange itself.
 */
public final class SaslOutOfPlace {
    private SaslOutOfPlace() {}

    public static final ApiHandler HANDSHAKE = (context, request) -> CompletableFuture.completedFuture(
            new SaslHandshakeResponseData().setErrorCode(Errors.ILLEGAL_SASL_STATE.code()));

    public static final ApiHandler AUTHENTICATE = (context, request) -> CompletableFuture.completedFuture(
            new SaslAuthenticateResponseData().setErrorCode(Errors.ILLEGAL_SASL_STATE.code())
                    .setErrorMessage("listener " + context.listener() + " does not use SASL; connect to a SASL_PLAINTEXT or SASL_SSL listener"));
}
