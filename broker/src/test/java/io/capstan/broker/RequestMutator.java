package io.capstan.broker;

import java.util.Arrays;
import java.util.Random;

/**
 * Mutations of a valid request (header and body, without the length prefix) in the manner of a byte-level fuzzer:
 * flipped bits, boundary values written over integers of every width (array lengths, string lengths, sizes, offsets,
 * counts all live in them), truncation, inserted, duplicated and deleted runs. The API key and version are left
 * alone nine times in ten so most mutants reach a handler instead of the version check. Pure: the same bytes and
 * random state give the same mutant.
 */
final class RequestMutator {
    private static final long[] INTERESTING = {0, 1, -1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, Integer.MAX_VALUE,
            Integer.MIN_VALUE, 0xFFFF_FFFFL, Long.MAX_VALUE, Long.MIN_VALUE, 1 << 20, 100_000_000};
    private static final int HEADER_KEY_AND_VERSION = 4;

    private RequestMutator() {}

    static byte[] mutate(byte[] request, Random random) {
        byte[] out = request.clone();
        int mutations = 1 + random.nextInt(4);
        for (int i = 0; i < mutations; i++) {
            out = once(out, random);
        }
        return out;
    }

    private static byte[] once(byte[] in, Random random) {
        int from = random.nextInt(10) == 0 ? 0 : Math.min(HEADER_KEY_AND_VERSION, in.length);
        if (in.length <= from) {
            return Arrays.copyOf(in, in.length + 1 + random.nextInt(8));
        }
        int at = from + random.nextInt(in.length - from);
        byte[] out = in.clone();
        switch (random.nextInt(8)) {
            case 0 -> out[at] ^= (byte) (1 << random.nextInt(8));
            case 1 -> out[at] = (byte) INTERESTING[random.nextInt(INTERESTING.length)];
            case 2 -> writeBigEndian(out, at, 2, INTERESTING[random.nextInt(INTERESTING.length)]);
            case 3 -> writeBigEndian(out, at, 4, INTERESTING[random.nextInt(INTERESTING.length)]);
            case 4 -> writeBigEndian(out, at, 8, INTERESTING[random.nextInt(INTERESTING.length)]);
            case 5 -> out = Arrays.copyOf(out, at); // truncated
            case 6 -> { // random bytes inserted
                byte[] extra = new byte[1 + random.nextInt(16)];
                random.nextBytes(extra);
                out = splice(out, at, extra, 0);
            }
            default -> { // a run duplicated or deleted
                int len = 1 + random.nextInt(Math.min(32, out.length - at));
                out = random.nextBoolean() ? splice(out, at, Arrays.copyOfRange(out, at, at + len), 0) : splice(out, at, new byte[0], len);
            }
        }
        return out;
    }

    private static void writeBigEndian(byte[] out, int at, int width, long value) {
        for (int i = 0; i < width && at + i < out.length; i++) {
            out[at + i] = (byte) (value >>> (8 * (width - 1 - i)));
        }
    }

    /** {@code in} with {@code removed} bytes at {@code at} replaced by {@code inserted}. */
    private static byte[] splice(byte[] in, int at, byte[] inserted, int removed) {
        byte[] out = new byte[in.length - removed + inserted.length];
        System.arraycopy(in, 0, out, 0, at);
        System.arraycopy(inserted, 0, out, at, inserted.length);
        System.arraycopy(in, at + removed, out, at + inserted.length, in.length - at - removed);
        return out;
    }
}
