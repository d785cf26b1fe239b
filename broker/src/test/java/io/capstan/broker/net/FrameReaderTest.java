package io.capstan.broker.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;

/** A produce request's record sets are handed out as slices of its frame, or as copies when the frame is not one buffer. */
class FrameReaderTest {
    private static final short VERSION = 9;

    /** A produce request body with {@code partitions} record sets, each holding its partition number as its value. */
    private static ByteBuffer produceRequest(int partitions) {
        ProduceRequestData request = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(30_000);
        ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData().setName("t");
        for (int p = 0; p < partitions; p++) {
            topic.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(p)
                    .setRecords(MemoryRecords.withRecords(org.apache.kafka.common.compress.Compression.NONE,
                            new SimpleRecord(("value-" + p).getBytes()))));
        }
        request.topicData().add(topic);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ByteBuffer body = ByteBuffer.allocate(request.size(cache, VERSION));
        request.write(new ByteBufferAccessor(body), cache, VERSION);
        return body.flip();
    }

    private static List<MemoryRecords> records(FrameReader reader) {
        ProduceRequestData parsed = new ProduceRequestData();
        parsed.read(reader, VERSION);
        List<MemoryRecords> out = new ArrayList<>();
        parsed.topicData().forEach(t -> t.partitionData().forEach(p -> out.add((MemoryRecords) p.records())));
        return out;
    }

    @Test
    void eachRecordSetOfAContiguousFrameIsASliceOfIt() {
        ByteBuf frame = PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(produceRequest(3));
        try {
            List<MemoryRecords> sets = records(FrameReader.of(frame));
            assertThat(sets).hasSize(3);
            FrameReader reader = FrameReader.of(frame);
            List<MemoryRecords> again = records(reader);
            for (int p = 0; p < 3; p++) {
                ByteBuf slice = reader.retain(again.get(p));
                try {
                    assertThat(sharesMemory(frame, slice)).as("a slice of the frame itself, not a copy").isTrue();
                    assertThat(MemoryRecords.readableRecords(slice.nioBuffer()).records().iterator().next().value())
                            .isEqualTo(ByteBuffer.wrap(("value-" + p).getBytes()));
                } finally {
                    slice.release();
                }
            }
            assertThat(frame.refCnt()).as("every slice released").isEqualTo(1);
        } finally {
            frame.release();
        }
    }

    /** Whether a change to {@code part}'s first byte shows in {@code frame} (restored afterwards). */
    private static boolean sharesMemory(ByteBuf frame, ByteBuf part) {
        byte[] before = io.netty.buffer.ByteBufUtil.getBytes(frame);
        byte first = part.getByte(part.readerIndex());
        part.setByte(part.readerIndex(), first ^ 0xff);
        byte[] after = io.netty.buffer.ByteBufUtil.getBytes(frame);
        part.setByte(part.readerIndex(), first);
        return !java.util.Arrays.equals(before, after);
    }

    @Test
    void aFrameInPiecesHandsOutCopies() {
        ByteBuffer body = produceRequest(2);
        CompositeByteBuf frame = PooledByteBufAllocator.DEFAULT.compositeDirectBuffer();
        int half = body.remaining() / 2;
        frame.addComponent(true, PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(body.duplicate().limit(half)));
        frame.addComponent(true, PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(body.duplicate().position(half)));
        try {
            FrameReader reader = FrameReader.of(frame);
            List<MemoryRecords> sets = records(reader);
            for (int p = 0; p < 2; p++) {
                ByteBuf copy = reader.retain(sets.get(p));
                try {
                    assertThat(copy.refCnt()).isEqualTo(1);
                    assertThat(frame.refCnt()).as("a copy holds nothing of the frame").isEqualTo(1);
                    assertThat(sharesMemory(frame, copy)).isFalse();
                    assertThat(MemoryRecords.readableRecords(copy.nioBuffer()).records().iterator().next().value())
                            .isEqualTo(ByteBuffer.wrap(("value-" + p).getBytes()));
                } finally {
                    copy.release();
                }
            }
        } finally {
            frame.release();
        }
    }

    @Test
    void aRequestWithoutRecordsReadsAsBefore() {
        ByteBuf frame = PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(produceRequest(0));
        try {
            assertThat(records(FrameReader.of(frame))).isEmpty();
        } finally {
            frame.release();
        }
    }
}
