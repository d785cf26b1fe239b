package io.capstan.broker.log;

import java.nio.ByteBuffer;

/**
 * How far the cleaner has compacted a shard: every batch below {@code offset} was compacted against every key up to it,
 * and those batches held {@code bytes} after it (Kafka's cleaner checkpoint, plus the clean size the dirty ratio needs).
 * {@code tombstonesDueAt}: the earliest delete horizon still ahead among the tombstones it left, when a pass is due even
 * if nothing new was written (Kafka's cleaner also picks a log whose tombstones expired). Kept in the meta column family
 * so a restart does not compact everything again.
 */
record CleanPoint(long offset, long bytes, long tombstonesDueAt) {
    static final long NO_TOMBSTONES = Long.MAX_VALUE;
    static final CleanPoint NONE = new CleanPoint(0, 0, NO_TOMBSTONES);

    static byte[] key(int shardKey) {
        return LogStore.bytes("cleaned/" + shardKey);
    }

    byte[] encode() {
        return ByteBuffer.allocate(24).putLong(offset).putLong(bytes).putLong(tombstonesDueAt).array();
    }

    static CleanPoint decode(byte[] bytes) {
        if (bytes == null) {
            return NONE;
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        return new CleanPoint(b.getLong(), b.getLong(), b.getLong());
    }

    /** After retention dropped {@code dropped} bytes from the shard's start (they were the oldest, so clean ones first). */
    CleanPoint afterDropping(long newStart, long dropped) {
        return newStart >= offset ? new CleanPoint(newStart, 0, NO_TOMBSTONES)
                : new CleanPoint(offset, Math.max(0, bytes - dropped), tombstonesDueAt);
    }

    /** Share of the shard's bytes not yet compacted. */
    double dirtyRatio(long sizeBytes) {
        return sizeBytes <= 0 ? 0 : Math.max(0, sizeBytes - bytes) / (double) sizeBytes;
    }

    boolean tombstonesDue(long nowMs) {
        return tombstonesDueAt != NO_TOMBSTONES && nowMs >= tombstonesDueAt;
    }
}
