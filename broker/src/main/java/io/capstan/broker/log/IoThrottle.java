package io.capstan.broker.log;

import java.util.function.DoubleSupplier;

/**
 * Holds a thread to a byte rate (log.cleaner.io.max.bytes.per.second) by sleeping once it is ahead of it. The rate is
 * a dynamic broker config: a new one applies from the next {@link #restart()}, the start of a cleaner pass.
 */
final class IoThrottle {
    private final DoubleSupplier rate;
    private double bytesPerSecond;
    private long startNanos;
    private double bytes;

    IoThrottle(DoubleSupplier rate) {
        this.rate = rate;
        restart();
    }

    void restart() {
        bytesPerSecond = rate.getAsDouble();
        startNanos = System.nanoTime();
        bytes = 0;
    }

    void acquire(long n) {
        bytes += n;
        double dueNanos = bytes / bytesPerSecond * 1e9;
        long aheadNanos = (long) Math.min(dueNanos - (System.nanoTime() - startNanos), 60e9);
        if (aheadNanos > 1_000_000) {
            try {
                Thread.sleep(aheadNanos / 1_000_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
