package io.capstan.broker;

import io.netty.util.ResourceLeakDetector;
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
