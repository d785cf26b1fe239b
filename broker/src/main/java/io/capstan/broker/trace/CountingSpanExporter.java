package io.capstan.broker.trace;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts the spans each export delivered or lost, for the broker's metrics, and says in one line of the broker's own
 * log (at most once a minute) when the collector cannot be reached, instead of the SDK's stack traces.
 */
final class CountingSpanExporter implements SpanExporter {
    private static final Logger log = LoggerFactory.getLogger(CountingSpanExporter.class);
    private static final long WARN_EVERY_NANOS = 60_000_000_000L;

    private final SpanExporter delegate;
    private final String endpoint;
    private final AtomicLong exported = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong lastWarning = new AtomicLong(System.nanoTime() - WARN_EVERY_NANOS);

    CountingSpanExporter(SpanExporter delegate, String endpoint) {
        this.delegate = delegate;
        this.endpoint = endpoint;
    }

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
        int n = spans.size();
        CompletableResultCode result = delegate.export(spans);
        result.whenComplete(() -> {
            if (result.isSuccess()) {
                exported.addAndGet(n);
                return;
            }
            failed.addAndGet(n);
            long now = System.nanoTime();
            long last = lastWarning.get();
            if (now - last >= WARN_EVERY_NANOS && lastWarning.compareAndSet(last, now)) {
                Throwable cause = result.getFailureThrowable();
                log.warn("could not export {} request spans to {} ({}); they are dropped. Check that an OTLP/HTTP collector listens at"
                        + " tracing.otlp.endpoint (capstan_trace_spans_total{outcome=\"failed\"} counts the losses)", n, endpoint,
                        cause == null ? "the collector refused them" : cause.toString());
            }
        });
        return result;
    }

    long exported() {
        return exported.get();
    }

    long failed() {
        return failed.get();
    }

    @Override
    public CompletableResultCode flush() {
        return delegate.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
        return delegate.shutdown();
    }
}
