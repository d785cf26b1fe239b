package io.capstan.broker.quota;

/**
 * An amount per second (bytes, or percent of a thread for request time) over a sliding window of samples, measured the
 * way Kafka's quota sensors measure it (samples of {@code sampleMs}, {@code samples} of them; the rate divides by the
 * time the window covers, at least all but one sample), and the delay that brings a rate over its bound back under it:
 * (observed - bound) / bound * window.
 * Thread-safe (one per client, shared by its connections).
 */
public final class SampledRate {
    private final long sampleMs;
    private final long[] starts;
    private final double[] totals;
    private int current;
    private long lastRecordMs;

    public SampledRate(int samples, long sampleMs, long nowMs) {
        this.sampleMs = sampleMs;
        this.starts = new long[samples];
        this.totals = new double[samples];
        java.util.Arrays.fill(starts, Long.MIN_VALUE);
        starts[0] = nowMs;
        lastRecordMs = nowMs;
    }

    /** Adds {@code amount} (negative takes back what a refused fetch did not send) and returns the delay owed, in ms. */
    public synchronized long record(double amount, double perSecond, long nowMs) {
        roll(nowMs);
        totals[current] += amount;
        lastRecordMs = nowMs;
        long window = windowMs(nowMs);
        double rate = total(nowMs) * 1000.0 / window;
        if (rate <= perSecond) {
            return 0;
        }
        return Math.round((rate - perSecond) / perSecond * window);
    }

    /** How much more may be recorded now before the rate goes over {@code perSecond} (negative when it is over). */
    public synchronized double headroom(double perSecond, long nowMs) {
        roll(nowMs);
        return perSecond * windowMs(nowMs) / 1000.0 - total(nowMs);
    }

    synchronized long lastRecordMs() {
        return lastRecordMs;
    }

    private void roll(long nowMs) {
        if (nowMs - starts[current] < sampleMs) {
            return;
        }
        current = (current + 1) % starts.length;
        starts[current] = nowMs;
        totals[current] = 0;
    }

    private double total(long nowMs) {
        double sum = 0;
        for (int i = 0; i < starts.length; i++) {
            if (starts[i] != Long.MIN_VALUE && nowMs - starts[i] < starts.length * sampleMs) {
                sum += totals[i];
            }
        }
        return sum;
    }

    private long windowMs(long nowMs) {
        long oldest = nowMs;
        for (long start : starts) {
            if (start != Long.MIN_VALUE && nowMs - start < starts.length * sampleMs) {
                oldest = Math.min(oldest, start);
            }
        }
        return Math.max(nowMs - oldest, (starts.length - 1) * sampleMs);
    }
}
