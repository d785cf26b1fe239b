package io.capstan.broker.log;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The cleaner's map from record key to the latest offset seen for it, in bounded memory: each key is kept as its
 * 16-byte MD5 digest (as Kafka's cleaner does; a collision would need 2^64 keys to be likely) next to its offset, 24
 * bytes an entry, in open-addressed arrays that start small and double up to the configured budget. Single-threaded.
 */
final class KeyOffsetMap {
    private static final int BYTES_PER_ENTRY = 24;
    private static final double LOAD_FACTOR = 0.75;

    private final int maxSlots;
    private final MessageDigest md5;
    private long[] high;
    private long[] low;
    private long[] offsets;
    private int entries;

    KeyOffsetMap(long memoryBytes) {
        long slots = Long.highestOneBit(Math.max(16, memoryBytes / BYTES_PER_ENTRY));
        this.maxSlots = (int) Math.min(slots, 1 << 30);
        try {
            this.md5 = MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no MD5", e);
        }
        allocate(Math.min(maxSlots, 1024));
    }

    /** How many more distinct keys fit. */
    int remaining() {
        return (int) (maxSlots * LOAD_FACTOR) - entries;
    }

    int size() {
        return entries;
    }

    /** Records {@code offset} as the key's latest; false (and nothing stored) if the key is new and the map is full. */
    boolean put(ByteBuffer key, long offset) {
        digest(key);
        int slot = find();
        if (offsets[slot] < 0) {
            if (remaining() <= 0) {
                return false;
            }
            if (entries + 1 > offsets.length * LOAD_FACTOR) {
                grow();
                slot = find();
            }
            high[slot] = digestHigh;
            low[slot] = digestLow;
            entries++;
        }
        offsets[slot] = offset;
        return true;
    }

    /** The latest offset put for the key, or -1. */
    long get(ByteBuffer key) {
        digest(key);
        return offsets[find()];
    }

    void clear() {
        entries = 0;
        allocate(Math.min(maxSlots, 1024));
    }

    private long digestHigh;
    private long digestLow;

    private void digest(ByteBuffer key) {
        md5.update(key.duplicate());
        ByteBuffer d = ByteBuffer.wrap(md5.digest());
        digestHigh = d.getLong();
        digestLow = d.getLong();
    }

    /** The slot holding the current digest, or the empty slot where it would go (linear probing). */
    private int find() {
        int mask = offsets.length - 1;
        int slot = (int) (digestLow ^ (digestLow >>> 32)) & mask;
        while (offsets[slot] >= 0 && (high[slot] != digestHigh || low[slot] != digestLow)) {
            slot = (slot + 1) & mask;
        }
        return slot;
    }

    private void grow() {
        long[] oldHigh = high;
        long[] oldLow = low;
        long[] oldOffsets = offsets;
        allocate(offsets.length * 2);
        long h = digestHigh;
        long l = digestLow;
        for (int i = 0; i < oldOffsets.length; i++) {
            if (oldOffsets[i] >= 0) {
                digestHigh = oldHigh[i];
                digestLow = oldLow[i];
                int slot = find();
                high[slot] = digestHigh;
                low[slot] = digestLow;
                offsets[slot] = oldOffsets[i];
            }
        }
        digestHigh = h;
        digestLow = l;
    }

    private void allocate(int slots) {
        high = new long[slots];
        low = new long[slots];
        offsets = new long[slots];
        java.util.Arrays.fill(offsets, -1);
    }
}
