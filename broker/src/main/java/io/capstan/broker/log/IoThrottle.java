package io.capstan.broker.log;

/** Holds a thread to a byte rate (log.cleaner.io.max.bytes.per.second) by sleeping once it is ahead of it. */
final class IoThrottle {
    private final double bytesPerSecond;
    private long startNanos;
    private double bytes;

    IoThrottle(double bytesPerSecond) {
        this.bytesPerSecond = bytesPerSecond;
        restart();
    }

    void restart() {
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
