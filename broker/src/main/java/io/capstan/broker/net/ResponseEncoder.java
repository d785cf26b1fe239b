package io.capstan.broker.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;

/** Writes a size-prefixed response frame (header + body) straight into a pooled Netty buffer. */
final class ResponseEncoder {
    private ResponseEncoder() {}

    static ByteBuf encode(ByteBufAllocator alloc, int correlationId, short headerVersion, ApiMessage body, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ResponseHeaderData header = new ResponseHeaderData().setCorrelationId(correlationId);
        int headerSize = header.size(cache, headerVersion);
        int size = headerSize + body.size(cache, version);
        ByteBuf buf = alloc.ioBuffer(4 + size);
        ByteBuffer nio = buf.nioBuffer(0, 4 + size);
        nio.putInt(size);
        ByteBufferAccessor out = new ByteBufferAccessor(nio);
        header.write(out, cache, headerVersion);
        body.write(out, cache, version);
        buf.writerIndex(4 + size);
        return buf;
    }
}
