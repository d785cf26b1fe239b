package io.capstan.broker.security;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Slows password guessing per client address: each failed login is answered after {@code baseDelayMs}, doubled for
 * every earlier failure from the same address within the last minute, up to {@link #MAX_DELAY_MS}. A success clears
 * the address. At most {@link #MAX_ADDRESSES} addresses are remembered (the least recent dropped first), so a flood
 * from many addresses cannot exhaust memory.
 */
public final class LoginThrottle {
    static final long WINDOW_MS = 60_000;
    static final long MAX_DELAY_MS = 5_000;
    static final int MAX_ADDRESSES = 10_000;

    private record Failures(int count, long lastMs) {}

    private final long baseDelayMs;
    private final LongSupplier clockMs;
    private final Map<String, Failures> byAddress = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Failures> eldest) {
            return size() > MAX_ADDRESSES;
        }
    };

    public LoginThrottle(long baseDelayMs, LongSupplier clockMs) {
        this.baseDelayMs = baseDelayMs;
        this.clockMs = clockMs;
    }

    /** Records a failed login from {@code address}; returns how long to hold the answer. */
    public synchronized long failed(String address) {
        long now = clockMs.getAsLong();
        Failures previous = byAddress.get(address);
        int count = previous == null || now - previous.lastMs() > WINDOW_MS ? 1 : previous.count() + 1;
        byAddress.put(address, new Failures(count, now));
        if (baseDelayMs == 0) {
            return 0;
        }
        return Math.min(MAX_DELAY_MS, baseDelayMs << Math.min(count - 1, 20));
    }

    public synchronized void succeeded(String address) {
        byAddress.remove(address);
    }

    synchronized int remembered() {
        return byAddress.size();
    }
}
