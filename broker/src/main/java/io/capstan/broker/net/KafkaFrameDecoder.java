package io.capstan.broker.net;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;
import java.nio.ByteOrder;

/**
 * Kafka's size-prefixed frames. The limit is socket.request.max.bytes once a client has authenticated and
 * sasl.server.max.receive.size before (an unauthenticated peer cannot make the broker buffer 100 MiB); either way an
 * oversized length is refused as soon as its four bytes arrive, before anything is allocated. A TLS record where a
 * length should be (a TLS client on a plaintext port) is named as such instead of read as a 370 MB frame.
 */
final class KafkaFrameDecoder extends LengthFieldBasedFrameDecoder {
    private static final int TLS_HANDSHAKE_RECORD = 0x1603;

    private final int maxFrameBytes;
    private int limit;

    KafkaFrameDecoder(int maxFrameBytes, int preAuthenticationLimit) {
        super(maxFrameBytes, 0, 4, 0, 4, true);
        this.maxFrameBytes = maxFrameBytes;
        this.limit = Math.min(maxFrameBytes, preAuthenticationLimit);
    }

    /** The client has authenticated: from now on it may send frames up to socket.request.max.bytes. */
    void authenticated() {
        limit = maxFrameBytes;
    }

    @Override
    protected long getUnadjustedFrameLength(ByteBuf buf, int offset, int length, ByteOrder order) {
        long size = buf.getUnsignedInt(offset);
        if (size > limit) {
            if ((size >>> 16) == TLS_HANDSHAKE_RECORD) {
                throw new CorruptedFrameException("a TLS handshake arrived on a listener without TLS; connect with"
                        + " security.protocol PLAINTEXT or SASL_PLAINTEXT here, or use the broker's SSL listener");
            }
            throw new TooLongFrameException("frame of " + size + " bytes exceeds the limit of " + limit + " bytes"
                    + (limit < maxFrameBytes ? " before authentication (sasl.server.max.receive.size)" : " (socket.request.max.bytes)"));
        }
        return size;
    }
}
