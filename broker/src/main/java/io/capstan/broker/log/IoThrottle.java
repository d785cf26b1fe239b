package io.capstan.broker.log;

import java.util.concurrent.CancellationException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.DoubleSupplier;

/**
 * Holds a thread to a byte rate (log.cleaner.io.max.bytes.per.second) by sleeping once it is ahead of it. The rate is
 * a dynamic broker config: a new one applies from the next {@link #restart()}, the start of a cleaner pass.
 *
 * <p>It is also where a pass learns that the broker is stopping ({@link #stop()}): the pass reads data files, and an
 * interrupt during a FileChannel read closes that channel for every thread, so passes are stopped by this signal and
 * never interrupted.
 */
final class IoThrottle {
    private final DoubleSupplier rate;
    private double bytesPerSecond;
    private long startNanos;
    private double bytes;
    private volatile boolean stopped;
    private volatile Thread sleeper;

    IoThrottle(DoubleSupplier rate) {
        this.rate = rate;
        restart();
    }

    void restart() {
        bytesPerSecond = rate.getAsDouble();
        startNanos = System.nanoTime();
        bytes = 0;
    }

    /** Counts {@code n} bytes read, sleeping while ahead of the rate; throws CancellationException once stopped. */
    void acquire(long n) {
        checkNotStopped();
        bytes += n;
        double dueNanos = bytes / bytesPerSecond * 1e9;
        long deadline = startNanos + (long) Math.min(dueNanos, (System.nanoTime() - startNanos) + 60e9);
        sleeper = Thread.currentThread();
        try {
            for (long ahead = deadline - System.nanoTime(); ahead > 1_000_000 && !stopped; ahead = deadline - System.nanoTime()) {
                LockSupport.parkNanos(this, ahead);
            }
        } finally {
            sleeper = null;
        }
        checkNotStopped();
    }

    /** Ends the current pass at its next batch, waking it if it sleeps; every later pass ends at its first. */
    void stop() {
        stopped = true;
        Thread t = sleeper;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    void checkNotStopped() {
        if (stopped) {
            throw new CancellationException("the broker is stopping");
        }
    }
}
