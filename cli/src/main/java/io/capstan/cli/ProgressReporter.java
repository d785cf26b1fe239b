package io.capstan.cli;

import java.io.PrintStream;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Counts records, bytes and latencies from any thread and prints a line every second and a summary at the end:
 * records/s, MB/s and p50/p99 latency (from HdrHistogram).
 */
final class ProgressReporter implements AutoCloseable {
    private final String what;
    private final PrintStream out;
    private final LongAdder records = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private final Recorder recorder = new Recorder(3);
    private final Histogram total = new Histogram(3);
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "capstan-progress");
        t.setDaemon(true);
        return t;
    });
    private final long start = System.nanoTime();
    private long lastNanos = start;
    private long lastRecords;
    private long lastBytes;

    ProgressReporter(String what, PrintStream out) {
        this.what = what;
        this.out = out;
        ticker.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
    }

    void record(int size, long latencyMicros) {
        records.increment();
        bytes.add(size);
        if (latencyMicros >= 0) {
            recorder.recordValue(Math.max(1, latencyMicros));
        }
    }

    long records() {
        return records.sum();
    }

    private synchronized void tick() {
        long now = System.nanoTime();
        long r = records.sum();
        long b = bytes.sum();
        Histogram interval = recorder.getIntervalHistogram();
        total.add(interval);
        double secs = (now - lastNanos) / 1e9;
        out.printf("%s: %,10.0f records/s  %8.2f MB/s  p50 %7.2f ms  p99 %7.2f ms  (%,d total)%n", what,
                (r - lastRecords) / secs, (b - lastBytes) / secs / 1e6,
                interval.getValueAtPercentile(50) / 1000.0, interval.getValueAtPercentile(99) / 1000.0, r);
        lastNanos = now;
        lastRecords = r;
        lastBytes = b;
    }

    /** Final figures over the whole run. */
    synchronized Summary summary() {
        total.add(recorder.getIntervalHistogram());
        double secs = (System.nanoTime() - start) / 1e9;
        return new Summary(records.sum(), bytes.sum(), secs, total.getValueAtPercentile(50) / 1000.0,
                total.getValueAtPercentile(99) / 1000.0, total.getValueAtPercentile(99.9) / 1000.0, total.getMaxValue() / 1000.0);
    }

    record Summary(long records, long bytes, double seconds, double p50Ms, double p99Ms, double p999Ms, double maxMs) {
        double recordsPerSecond() { return records / seconds; }
        double megabytesPerSecond() { return bytes / seconds / 1e6; }

        String line(String what) {
            return String.format("%s total: %,d records in %.1f s = %,.0f records/s, %.2f MB/s; latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms",
                    what, records, seconds, recordsPerSecond(), megabytesPerSecond(), p50Ms, p99Ms, p999Ms, maxMs);
        }
    }

    @Override
    public void close() {
        ticker.shutdownNow();
    }
}
