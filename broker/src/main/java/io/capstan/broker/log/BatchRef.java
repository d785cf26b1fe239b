package io.capstan.broker.log;

import java.nio.ByteBuffer;

/**
 * A log entry whose batch lives in a data file ({@link DataFiles}, decision 0027): the batch's 61-byte header, then
 * the file, the position and the CRC32C of the whole batch there. Every reader that needs only the header (offsets,
 * timestamps, producer fields) reads the entry as it reads an inline batch; a reference is told from an inline batch
 * by being shorter than the size its header declares.
 */
public final class BatchRef {
    static final int FILE = BatchHeader.HEADER_SIZE;
    static final int POSITION = FILE + 4;
    static final int CRC = POSITION + 8;
    public static final int SIZE = CRC + 4;

    private BatchRef() {}

    static byte[] encode(ByteBuffer batch, int file, long position, int crc) {
        byte[] ref = new byte[SIZE];
        batch.get(batch.position(), ref, 0, BatchHeader.HEADER_SIZE);
        ByteBuffer.wrap(ref).putInt(FILE, file).putLong(POSITION, position).putInt(CRC, crc);
        return ref;
    }

    /** True for a reference, false for a batch stored whole. */
    public static boolean is(byte[] value) {
        return value.length == SIZE && batchLength(value) > SIZE;
    }

    /** The size of the batch the entry stands for, whether stored whole or in a data file. */
    public static int batchLength(byte[] value) {
        return ByteBuffer.wrap(value).getInt(BatchHeader.LENGTH) + BatchHeader.LOG_OVERHEAD;
    }

    static int file(byte[] ref) {
        return ByteBuffer.wrap(ref).getInt(FILE);
    }

    static long position(byte[] ref) {
        return ByteBuffer.wrap(ref).getLong(POSITION);
    }

    static int crc(byte[] ref) {
        return ByteBuffer.wrap(ref).getInt(CRC);
    }
}
