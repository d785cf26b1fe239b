package io.capstan.broker.trace;

/** Decides, when a response has been written, whether the request is traced, and exports its spans if it is. */
public interface RequestTracer extends AutoCloseable {
    /** Tracing off: nothing is recorded beyond what the request metrics need, nothing is exported. */
    RequestTracer NONE = new RequestTracer() {
        @Override
        public boolean enabled() {
            return false;
        }

        @Override
        public TraceDecision decide(RequestTrace trace, long sentNanos) {
            return TraceDecision.DROPPED;
        }

        @Override
        public void export(String api, RequestTrace trace, long sentNanos, TraceDecision why, Peer peer) {}

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    /** Whether requests are traced at all; when not, the handlers record nothing for it. */
    boolean enabled();

    /** Who sent the request and where, as span attributes. */
    record Peer(String listener, String clientHost, String clientId, int requestBytes, int responseBytes) {}

    /** Whether the request whose response was written at {@code sentNanos} is traced (cheap: no allocation). */
    TraceDecision decide(RequestTrace trace, long sentNanos);

    /** Builds the spans of a request {@link #decide} kept and queues them for export. Event-loop thread: never blocks. */
    void export(String api, RequestTrace trace, long sentNanos, TraceDecision why, Peer peer);

    /** Spans a collector has taken so far. */
    default long exportedSpans() {
        return 0;
    }

    /** Spans lost because their export failed (the collector down, refusing or too slow). */
    default long failedSpans() {
        return 0;
    }

    /** Sends what is queued now, waiting up to 10 s (tests; a stop does it too). */
    void flush();

    @Override
    void close();
}
