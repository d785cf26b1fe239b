package io.capstan.broker.kafka;

import io.capstan.broker.log.BatchHeader;
import io.capstan.broker.trace.TraceParent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Finds the W3C {@code traceparent} header of the first record of a produced batch (decision 0032), so the broker's
 * spans join the producer's trace. Only an uncompressed batch is read: a compressed one would have to be decompressed
 * on the event loop for it. Reads with absolute positions and allocates only the header value it returns; a batch too
 * short or malformed for the walk gives null (it was validated before, so this is only belt and braces).
 */
final class TraceContextReader {
    private static final byte[] NAME = TraceParent.HEADER.getBytes(StandardCharsets.US_ASCII);
    private static final int COMPRESSION_MASK = 0x07;

    private TraceContextReader() {}

    static TraceParent firstRecord(ByteBuffer records) {
        int batch = records.position();
        if (records.remaining() < BatchHeader.HEADER_SIZE + 1 || records.get(batch + BatchHeader.MAGIC) != 2
                || (records.getShort(batch + BatchHeader.ATTRIBUTES) & COMPRESSION_MASK) != 0
                || records.getInt(batch + BatchHeader.RECORDS_COUNT) < 1) {
            return null;
        }
        try {
            ByteBuffer b = records.duplicate();
            b.position(batch + BatchHeader.HEADER_SIZE);
            varint(b); // record length
            b.get(); // attributes
            varlong(b); // timestamp delta
            varint(b); // offset delta
            skip(b, varint(b)); // key
            skip(b, varint(b)); // value
            int headers = varint(b);
            for (int i = 0; i < headers; i++) {
                int keyLength = varint(b);
                boolean match = keyLength == NAME.length && nameAt(b, b.position());
                skip(b, keyLength);
                int valueLength = varint(b);
                if (match && valueLength > 0 && valueLength <= 128) {
                    byte[] value = new byte[valueLength];
                    b.get(value);
                    return TraceParent.parse(new String(value, StandardCharsets.US_ASCII));
                }
                skip(b, valueLength);
            }
        } catch (RuntimeException malformed) {
            return null;
        }
        return null;
    }

    /** A zig-zag varint, as the record format writes lengths and deltas; too long a one is malformed. */
    private static int varint(ByteBuffer b) {
        long v = varlong(b);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("varint out of range");
        }
        return (int) v;
    }

    private static long varlong(ByteBuffer b) {
        long raw = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte next = b.get();
            raw |= (long) (next & 0x7f) << shift;
            if (next >= 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        throw new IllegalArgumentException("varint longer than 10 bytes");
    }

    private static void skip(ByteBuffer b, int length) {
        if (length > 0) {
            b.position(b.position() + length);
        }
    }

    private static boolean nameAt(ByteBuffer b, int at) {
        if (b.limit() - at < NAME.length) {
            return false;
        }
        for (int i = 0; i < NAME.length; i++) {
            if (b.get(at + i) != NAME[i]) {
                return false;
            }
        }
        return true;
    }
}
