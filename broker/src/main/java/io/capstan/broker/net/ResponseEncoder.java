package io.capstan.broker.net;

import io.capstan.broker.kafka.BatchRecords;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.record.internal.BaseRecords;

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
        ByteBufferAccessor out = new FrameWriter(nio);
        header.write(out, cache, headerVersion);
        body.write(out, cache, version);
        buf.writerIndex(4 + size);
        return buf;
    }

    /** Writes {@link BatchRecords} batch by batch, straight from the log's buffers into the frame. */
    private static final class FrameWriter extends ByteBufferAccessor {
        FrameWriter(ByteBuffer buffer) {
            super(buffer);
        }

        @Override
        public void writeRecords(BaseRecords records) {
            if (records instanceof BatchRecords batches) {
                ByteBuffer frame = buffer();
                for (ByteBuf batch : batches.batches()) {
                    int end = frame.position() + batch.readableBytes();
                    int limit = frame.limit();
                    frame.limit(end);
                    batch.getBytes(batch.readerIndex(), frame);
                    frame.limit(limit);
                }
                batches.written();
            } else {
                super.writeRecords(records);
            }
        }
    }
}
