package io.capstan.broker.net;

import io.capstan.broker.kafka.RequestFrame;
import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.record.internal.MemoryRecords;

/**
 * Parses a request from its frame and remembers where in the frame each record set was, so a handler can keep a
 * record set as a slice of the frame ({@link #retain}) rather than a copy. A frame whose memory is not one contiguous
 * buffer (its NIO view is then itself a copy) hands out copies instead.
 */
final class FrameReader extends ByteBufferAccessor implements RequestFrame {
    private final ByteBuf frame;
    private final boolean contiguous;
    /**
     * The record sets read and where each began, in reading order: none for most requests (fetch, metadata,
     * heartbeats), so nothing is allocated until the first; one per partition of a produce request.
     */
    private MemoryRecords[] parsed;
    private int[] positions;
    private int count;

    private FrameReader(ByteBuf frame, ByteBuffer view, boolean contiguous) {
        super(view);
        this.frame = frame;
        this.contiguous = contiguous;
    }

    /** Reads {@code frame} from its reader index; its NIO view starts there, so view positions are frame offsets. */
    static FrameReader of(ByteBuf frame) {
        return new FrameReader(frame, frame.nioBuffer(), frame.nioBufferCount() == 1);
    }

    @Override
    public MemoryRecords readRecords(int length) {
        int position = buffer().position();
        MemoryRecords records = super.readRecords(length);
        if (records != null) {
            if (parsed == null) {
                parsed = new MemoryRecords[1];
                positions = new int[1];
            } else if (count == parsed.length) {
                parsed = java.util.Arrays.copyOf(parsed, count * 2);
                positions = java.util.Arrays.copyOf(positions, count * 2);
            }
            parsed[count] = records;
            positions[count] = position;
            count++;
        }
        return records;
    }

    @Override
    public ByteBuf retain(MemoryRecords records) {
        int length = records.sizeInBytes();
        for (int i = 0; contiguous && i < count; i++) {
            if (parsed[i] == records) {
                return frame.retainedSlice(frame.readerIndex() + positions[i], length);
            }
        }
        ByteBuf copy = frame.alloc().directBuffer(length, length);
        copy.writeBytes(records.buffer().duplicate());
        return copy;
    }
}
