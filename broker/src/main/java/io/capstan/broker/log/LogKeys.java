package io.capstan.broker.log;

/** Keys of the log column family: shard key then offset, both big-endian so RocksDB's byte order is numeric order. */
public final class LogKeys {
    public static final int SIZE = 12;

    private LogKeys() {}

    public static byte[] of(int shardKey, long offset) {
        byte[] key = new byte[SIZE];
        putInt(key, 0, shardKey);
        putLong(key, 4, offset);
        return key;
    }

    /** Producer-state keys: shard key then producer id. */
    public static byte[] producer(int shardKey, long producerId) {
        return of(shardKey, producerId);
    }

    /** First key of the shard. */
    public static byte[] shardStart(int shardKey) {
        return of(shardKey, 0);
    }

    /** First key after the shard: exclusive upper bound of its range. */
    public static byte[] shardEnd(int shardKey) {
        byte[] key = new byte[4];
        putInt(key, 0, shardKey + 1);
        return key;
    }

    public static long offset(byte[] key) {
        long v = 0;
        for (int i = 4; i < 12; i++) {
            v = (v << 8) | (key[i] & 0xff);
        }
        return v;
    }

    private static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    private static void putLong(byte[] b, int at, long v) {
        for (int i = 7; i >= 0; i--) {
            b[at + i] = (byte) v;
            v >>>= 8;
        }
    }
}
