package io.capstan.broker.log;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Flyweight over the header of one record batch (magic v2) at a position in a buffer.
 * Reads and stamps fields in place without copying or allocating; see Kafka's DefaultRecordBatch for the layout.
 */
public final class BatchHeader {
    public static final int BASE_OFFSET = 0;
    public static final int LENGTH = 8;
    public static final int PARTITION_LEADER_EPOCH = 12;
    public static final int MAGIC = 16;
    public static final int CRC = 17;
    public static final int ATTRIBUTES = 21;
    public static final int LAST_OFFSET_DELTA = 23;
    public static final int BASE_TIMESTAMP = 27;
    public static final int MAX_TIMESTAMP = 35;
    public static final int PRODUCER_ID = 43;
    public static final int PRODUCER_EPOCH = 51;
    public static final int BASE_SEQUENCE = 53;
    public static final int RECORDS_COUNT = 57;
    public static final int HEADER_SIZE = 61;
    /** Bytes before the batchLength field's count starts. */
    public static final int LOG_OVERHEAD = 12;

    private static final short TRANSACTIONAL_FLAG = 0x10;
    private static final short CONTROL_FLAG = 0x20;
    private static final short DELETE_HORIZON_FLAG = 0x40;

    private ByteBuffer buffer;
    private int start;

    public BatchHeader wrap(ByteBuffer buffer, int start) {
        this.buffer = buffer;
        this.start = start;
        return this;
    }

    public long baseOffset() { return buffer.getLong(start + BASE_OFFSET); }
    /** Whole batch size in bytes, including the offset and length fields. */
    public int sizeInBytes() { return buffer.getInt(start + LENGTH) + LOG_OVERHEAD; }
    public int partitionLeaderEpoch() { return buffer.getInt(start + PARTITION_LEADER_EPOCH); }
    public byte magic() { return buffer.get(start + MAGIC); }
    public long storedCrc() { return Integer.toUnsignedLong(buffer.getInt(start + CRC)); }
    public short attributes() { return buffer.getShort(start + ATTRIBUTES); }
    public int lastOffsetDelta() { return buffer.getInt(start + LAST_OFFSET_DELTA); }
    public long baseTimestamp() { return buffer.getLong(start + BASE_TIMESTAMP); }
    public long maxTimestamp() { return buffer.getLong(start + MAX_TIMESTAMP); }
    public long producerId() { return buffer.getLong(start + PRODUCER_ID); }
    public short producerEpoch() { return buffer.getShort(start + PRODUCER_EPOCH); }
    public int baseSequence() { return buffer.getInt(start + BASE_SEQUENCE); }
    public int recordsCount() { return buffer.getInt(start + RECORDS_COUNT); }
    public boolean isTransactional() { return (attributes() & TRANSACTIONAL_FLAG) != 0; }
    public boolean isControl() { return (attributes() & CONTROL_FLAG) != 0; }
    /** When the cleaner may remove this batch's tombstones (KIP-534: then the base timestamp holds it), or -1 if not set. */
    public long deleteHorizonMs() { return (attributes() & DELETE_HORIZON_FLAG) != 0 ? baseTimestamp() : -1; }

    public long lastOffset() { return baseOffset() + lastOffsetDelta(); }

    public int lastSequence() {
        int base = baseSequence();
        if (base < 0) {
            return base;
        }
        long last = (long) base + lastOffsetDelta();
        return (int) (last > Integer.MAX_VALUE ? last - Integer.MAX_VALUE - 1 : last);
    }

    /** CRC32C over attributes..end, the part of the batch the producer signs. */
    public long computeCrc() {
        CRC32C crc = new CRC32C();
        ByteBuffer view = buffer.duplicate();
        view.limit(start + sizeInBytes()).position(start + ATTRIBUTES);
        crc.update(view);
        return crc.getValue();
    }

    /** Offsets and the leader epoch are outside the CRC, so stamping them keeps the batch valid. */
    public void stamp(long baseOffset, int leaderEpoch) {
        buffer.putLong(start + BASE_OFFSET, baseOffset);
        buffer.putInt(start + PARTITION_LEADER_EPOCH, leaderEpoch);
    }
}
