package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Netty's leak detector with every report kept, so a test can assert that none came (surefire names it in
 * {@code io.netty.customResourceLeakDetector}). A leak is a buffer the garbage collector found unreachable while it
 * still held a reference count: pooled memory that would never be freed.
 */
public final class CountingLeakDetector<T> extends ResourceLeakDetector<T> {
    private static final List<String> REPORTS = new CopyOnWriteArrayList<>();

    public CountingLeakDetector(Class<?> resourceType, int samplingInterval) {
        super(resourceType, samplingInterval);
    }

    public CountingLeakDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
        super(resourceType, samplingInterval);
    }

    private static final String CANARY = "leak-detector-canary";

    /** Watches every buffer allocated from now until {@link #stopWatchingEveryBuffer} (Netty's paranoid level). */
    public static ResourceLeakDetector.Level watchEveryBuffer() {
        ResourceLeakDetector.Level before = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        return before;
    }

    public static void stopWatchingEveryBuffer(ResourceLeakDetector.Level before) {
        ResourceLeakDetector.setLevel(before);
    }

    /**
     * Fails if a buffer was reported leaked after the first {@code reportsBefore} reports. A buffer is reported only
     * once the collector found it and a later allocation looked: a canary leaked on purpose shows the detector has
     * looked since everything the test dropped became garbage; any other report is a leak.
     */
    public static void assertNothingLeakedSince(int reportsBefore) {
        ResourceLeakDetector.Level level = watchEveryBuffer(); // the canary must be watched, not sampled
        try {
            String canary = CANARY + "-" + java.util.UUID.randomUUID(); // reports with the same records are made once
            leakCanary(canary);
            await("the leak detector reports the canary").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
                System.gc();
                PooledByteBufAllocator.DEFAULT.directBuffer(16).release(); // each allocation makes the detector look
                return since(reportsBefore).stream().anyMatch(r -> r.contains(canary));
            });
        } finally {
            stopWatchingEveryBuffer(level);
        }
        assertThat(since(reportsBefore).stream().filter(r -> !r.contains(CANARY)))
                .as("buffers dropped while still holding a reference").isEmpty();
    }

    private static List<String> since(int reportsBefore) {
        List<String> reports = reports();
        return reports.subList(reportsBefore, reports.size());
    }

    private static void leakCanary(String hint) {
        ByteBuf canary = PooledByteBufAllocator.DEFAULT.directBuffer(16);
        canary.touch(hint);
    }

    /** The reports so far: the access records of each leaked buffer (hints included). */
    public static List<String> reports() {
        return List.copyOf(REPORTS);
    }

    @Override
    protected boolean needReport() {
        return true; // whatever the log level says
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
        REPORTS.add(resourceType + " " + records);
        super.reportTracedLeak(resourceType, records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
        REPORTS.add(resourceType + " (untraced)");
        super.reportUntracedLeak(resourceType);
    }
}
