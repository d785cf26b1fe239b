package io.capstan.broker.trace;

import io.capstan.config.BrokerConfig;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Request spans exported over OTLP/HTTP with the OpenTelemetry SDK (decision 0032). Each kept request becomes a SERVER
 * span from its frame read to its response written, with children for the phases it went through: decoding and
 * handling on the event loop; for produce, the wait for the log's committer, the write, the wait for the fsync, the
 * fsync and the wait for the in-sync replicas; for other requests the wait for their answer (a fetch parked for data);
 * and the wait behind earlier responses of the connection. Spans are queued in the SDK's batch processor, which drops
 * them rather than grow when the collector is slow or gone.
 */
public final class OtlpRequestTracer implements RequestTracer {
    private static final AttributeKey<String> API = AttributeKey.stringKey("kafka.api");
    private static final AttributeKey<String> LISTENER = AttributeKey.stringKey("capstan.listener");
    private static final AttributeKey<String> CLIENT_HOST = AttributeKey.stringKey("client.address");
    private static final AttributeKey<String> CLIENT_ID = AttributeKey.stringKey("kafka.client.id");
    private static final AttributeKey<Long> REQUEST_BYTES = AttributeKey.longKey("capstan.request.bytes");
    private static final AttributeKey<Long> RESPONSE_BYTES = AttributeKey.longKey("capstan.response.bytes");
    private static final AttributeKey<String> REASON = AttributeKey.stringKey("capstan.trace.reason");

    /**
     * The SDK reports a failed export through java.util.logging with a stack trace; {@link CountingSpanExporter} says it
     * in the broker's log instead. Held here: JUL keeps only weak references to its loggers, and their levels with them.
     */
    private static final java.util.logging.Logger SDK_EXPORT_LOG = java.util.logging.Logger.getLogger("io.opentelemetry.exporter");

    private final SdkTracerProvider provider;
    private final CountingSpanExporter exporter;
    private final Tracer tracer;
    private final double ratio;
    private final long slowNanos;
    /** Wall-clock nanoseconds minus {@link System#nanoTime()}, to turn the recorded moments into span times. */
    private final long epochOffsetNanos;

    public OtlpRequestTracer(BrokerConfig.Tracing settings, int nodeId, String clusterId) {
        this.ratio = settings.samplingRatio();
        this.slowNanos = TimeUnit.MILLISECONDS.toNanos(settings.slowRequestMs());
        java.time.Instant now = java.time.Instant.now();
        this.epochOffsetNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano() - System.nanoTime();
        Resource resource = Resource.getDefault().merge(Resource.create(Attributes.of(
                AttributeKey.stringKey("service.name"), "capstan-broker",
                AttributeKey.stringKey("service.instance.id"), clusterId + "/" + nodeId)));
        SDK_EXPORT_LOG.setLevel(java.util.logging.Level.OFF);
        this.exporter = new CountingSpanExporter(OtlpHttpSpanExporter.builder().setEndpoint(settings.otlpEndpoint())
                .setTimeout(Duration.ofSeconds(10)).build(), settings.otlpEndpoint());
        this.provider = SdkTracerProvider.builder().setResource(resource).setSampler(Sampler.alwaysOn())
                .addSpanProcessor(BatchSpanProcessor.builder(exporter).setMaxQueueSize(4096).setScheduleDelay(Duration.ofSeconds(1)).build())
                .build();
        this.tracer = provider.get("io.capstan.broker");
    }

    @Override
    public boolean enabled() {
        return true;
    }

    @Override
    public TraceDecision decide(RequestTrace trace, long sentNanos) {
        double draw = ratio == 0 ? 1 : ThreadLocalRandom.current().nextDouble();
        return TraceDecision.of(trace.parent(), sentNanos - trace.startNanos, slowNanos, draw, ratio);
    }

    @Override
    public void export(String api, RequestTrace trace, long sentNanos, TraceDecision why, Peer peer) {
        TraceParent caller = trace.parent();
        Context parent = caller == null ? Context.root() : Context.root().with(Span.wrap(SpanContext.createFromRemoteParent(
                caller.traceId(), caller.spanId(), caller.sampled() ? TraceFlags.getSampled() : TraceFlags.getDefault(), TraceState.getDefault())));
        Span request = tracer.spanBuilder(api).setParent(parent).setSpanKind(SpanKind.SERVER)
                .setStartTimestamp(epoch(trace.startNanos), TimeUnit.NANOSECONDS)
                .setAttribute(API, api).setAttribute(LISTENER, peer.listener()).setAttribute(CLIENT_HOST, peer.clientHost())
                .setAttribute(CLIENT_ID, peer.clientId() == null ? "" : peer.clientId())
                .setAttribute(REQUEST_BYTES, (long) peer.requestBytes()).setAttribute(RESPONSE_BYTES, (long) peer.responseBytes())
                .setAttribute(REASON, why.name().toLowerCase(java.util.Locale.ROOT))
                .startSpan();
        Context inside = Context.root().with(request);
        long handled = trace.startNanos + trace.handleNanos;
        child(inside, "handle", trace.startNanos, handled);
        long[] log = trace.logMoments();
        long handedToLog = log[0];
        long writeStart = log[1];
        long writeEnd = log[2];
        long syncStart = log[3];
        long syncEnd = log[4];
        long replicated = log[5];
        if (syncEnd != 0) {
            child(inside, "log.queue", handedToLog == 0 ? handled : handedToLog, writeStart);
            child(inside, "log.write", writeStart, writeEnd);
            child(inside, "log.sync.queue", writeEnd, syncStart);
            child(inside, "log.fsync", syncStart, syncEnd);
            if (replicated != 0) {
                child(inside, "replicate", syncEnd, replicated);
            }
        } else if (trace.readyNanos > handled) {
            child(inside, "wait", handled, trace.readyNanos);
        }
        child(inside, "response.queue", trace.readyNanos, sentNanos);
        request.end(epoch(sentNanos), TimeUnit.NANOSECONDS);
    }

    private void child(Context parent, String name, long startNanos, long endNanos) {
        tracer.spanBuilder(name).setParent(parent).setSpanKind(SpanKind.INTERNAL)
                .setStartTimestamp(epoch(startNanos), TimeUnit.NANOSECONDS).startSpan()
                .end(epoch(Math.max(startNanos, endNanos)), TimeUnit.NANOSECONDS);
    }

    private long epoch(long nanoTime) {
        return nanoTime + epochOffsetNanos;
    }

    @Override
    public long exportedSpans() {
        return exporter.exported();
    }

    @Override
    public long failedSpans() {
        return exporter.failed();
    }

    @Override
    public void flush() {
        provider.forceFlush().join(10, TimeUnit.SECONDS);
    }

    /** What is queued gets two seconds to go: a collector that is down must not hold up the broker's stop. */
    @Override
    public void close() {
        provider.shutdown().join(2, TimeUnit.SECONDS);
    }
}
