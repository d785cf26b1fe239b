package io.capstan.e2e;

import java.nio.file.Path;
import java.util.Map;

/**
 * A process's wall clock set off by a fixed amount with libfaketime (Debian's faketime package), its monotonic clock
 * left true, as on a host whose NTP is wrong.
 */
final class FakeClock {
    static final Path LIBRARY = Path.of("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1");

    private FakeClock() {}

    /**
     * The environment (besides LD_PRELOAD, which callers chain with their other shims) for a wall clock {@code offset}
     * off ("+60s", "-90s"). libfaketime 0.9.10 turns on its "monotonic fix" by itself on this glibc; with the monotonic
     * clock left true, that fix makes every timed wait of the JVM (parkNanos, Object.wait) return at once, so each
     * waiting thread spins: a broker started that way took up to a minute to become ready. Turned off, waits last as
     * long as asked ({@code FakeClockTest}).
     */
    static Map<String, String> environment(String offset) {
        return Map.of("FAKETIME", offset, "FAKETIME_DONT_FAKE_MONOTONIC", "1", "FAKETIME_FORCE_MONOTONIC_FIX", "0");
    }

    /** {@link #environment} with libfaketime preloaded alone. */
    static Map<String, String> preloaded(String offset) {
        Map<String, String> env = new java.util.HashMap<>(environment(offset));
        env.put("LD_PRELOAD", LIBRARY.toString());
        return env;
    }
}
