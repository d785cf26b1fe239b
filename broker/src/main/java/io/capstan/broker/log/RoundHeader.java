package io.capstan.broker.log;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The frame of one group-commit round in a data file (format 3, decision 0033): this header, the round's batches, the
 * round's RocksDB write as RocksDB encodes a WriteBatch, and a CRC32C of that write. The data file is then the redo log
 * of the index: a round acknowledged after the data file's fsync alone is rebuilt at start from here when RocksDB's
 * unsynced write-ahead log lost it.
 *
 * <p>{@code follows} is where the round before it ended ({@link DataFiles#mark}), so a replay that finds a round not
 * following the one it just applied (a gap a crash left between two files) stops there.
 */
record RoundHeader(int batchBytes, int writeBytes, long follows) {
    static final int BYTES = 24;
    static final int TRAILER_BYTES = 4;
    private static final int MAGIC = 0xCA95_0D03;

    /** Bytes of the whole round in the file. */
    long length() {
        return BYTES + (long) batchBytes + writeBytes + TRAILER_BYTES;
    }

    /** Where the round's RocksDB write starts, from the round's start. */
    long writeOffset() {
        return BYTES + (long) batchBytes;
    }

    void encode(ByteBuffer into) {
        int start = into.position();
        into.putInt(MAGIC).putInt(batchBytes).putInt(writeBytes).putLong(follows);
        CRC32C crc = new CRC32C();
        crc.update(into.duplicate().position(start).limit(start + BYTES - 4));
        into.putInt((int) crc.getValue());
    }

    /** The header in {@code from} (its position to position + {@link #BYTES}), or null when there is none intact. */
    static RoundHeader decode(ByteBuffer from) {
        if (from.remaining() < BYTES) {
            return null;
        }
        int start = from.position();
        CRC32C crc = new CRC32C();
        crc.update(from.duplicate().position(start).limit(start + BYTES - 4));
        if (from.getInt(start) != MAGIC || from.getInt(start + BYTES - 4) != (int) crc.getValue()) {
            return null;
        }
        int batchBytes = from.getInt(start + 4);
        int writeBytes = from.getInt(start + 8);
        if (batchBytes < 0 || writeBytes < 0) {
            return null;
        }
        return new RoundHeader(batchBytes, writeBytes, from.getLong(start + 12));
    }

    static int trailer(byte[] write) {
        CRC32C crc = new CRC32C();
        crc.update(write, 0, write.length);
        return (int) crc.getValue();
    }
}
