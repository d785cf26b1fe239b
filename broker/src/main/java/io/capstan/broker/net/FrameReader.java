package io.capstan.broker.net;

import io.capstan.broker.kafka.RequestFrame;
import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
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
    private final List<MemoryRecords> parsed = new ArrayList<>(1);
    private final List<Integer> positions = new ArrayList<>(1);

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
            parsed.add(records);
            positions.add(position);
        }
        return records;
    }

    @Override
    public ByteBuf retain(MemoryRecords records) {
        int length = records.sizeInBytes();
        for (int i = 0; contiguous && i < parsed.size(); i++) {
            if (parsed.get(i) == records) {
                return frame.retainedSlice(frame.readerIndex() + positions.get(i), length);
            }
        }
        ByteBuf copy = frame.alloc().directBuffer(length, length);
        copy.writeBytes(records.buffer().duplicate());
        return copy;
    }
}
