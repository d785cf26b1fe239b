package io.capstan.operator.reconcile;

import io.capstan.operator.api.BrokerCluster;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A span for each reconcile pass of a BrokerCluster with a child for each of its steps (observe, plan, certificates,
 * apply, volumes, node_loss, rollout, status), built when the pass ends from the step timings its metrics take anyway
 * (decision 0032, the operator's half). Every pass is traced: there are few. Off unless an exporter is given.
 */
public final class PassTracer implements AutoCloseable {
    /** No tracing: nothing is recorded. */
    public static final PassTracer OFF = new PassTracer(null);

    private static final AttributeKey<String> NAMESPACE = AttributeKey.stringKey("k8s.namespace.name");
    private static final AttributeKey<String> CLUSTER = AttributeKey.stringKey("capstan.cluster");
    private static final AttributeKey<Long> GENERATION = AttributeKey.longKey("capstan.generation");
    private static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("capstan.outcome");
    private static final AttributeKey<Long> API_CALLS = AttributeKey.longKey("capstan.api_calls");

    private record Step(String name, long startNanos, long endNanos) {}

    private final SdkTracerProvider provider;
    private final Tracer tracer;
    private final long epochOffsetNanos;
    /** The steps of the pass running on this thread (JOSDK runs each pass on one thread). */
    private final ThreadLocal<List<Step>> steps = new ThreadLocal<>();

    private PassTracer(SpanProcessor processor) {
        java.time.Instant now = java.time.Instant.now();
        this.epochOffsetNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano() - System.nanoTime();
        if (processor == null) {
            provider = null;
            tracer = null;
            return;
        }
        provider = SdkTracerProvider.builder().addSpanProcessor(processor).setResource(Resource.getDefault()
                .merge(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "capstan-operator")))).build();
        tracer = provider.get("io.capstan.operator");
    }

    /**
     * Traces to an OTLP/HTTP collector, e.g. http://otel-collector:4318/v1/traces (the operator reads it from
     * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); null or empty: off.
     */
    public static PassTracer otlp(String endpoint) {
        if (endpoint == null || endpoint.isBlank()) {
            return OFF;
        }
        return exportingTo(OtlpHttpSpanExporter.builder().setEndpoint(endpoint.trim()).setTimeout(Duration.ofSeconds(10)).build());
    }

    /** Traces to any span exporter, batched (bounded: spans beyond 2,048 waiting are dropped). */
    public static PassTracer exportingTo(SpanExporter exporter) {
        return new PassTracer(BatchSpanProcessor.builder(exporter).setMaxQueueSize(2048).setScheduleDelay(Duration.ofSeconds(1)).build());
    }

    void begin() {
        if (tracer != null) {
            steps.set(new ArrayList<>());
        }
    }

    void step(String name, long startNanos, long endNanos) {
        List<Step> pass = steps.get();
        if (pass != null) {
            pass.add(new Step(name, startNanos, endNanos));
        }
    }

    /** The pass that began with {@link #begin} on this thread ended: its spans go to the exporter. */
    void end(BrokerCluster cluster, String outcome, long startNanos, long endNanos, int apiCalls) {
        List<Step> pass = steps.get();
        steps.remove();
        if (pass == null) {
            return;
        }
        Long generation = cluster.getMetadata().getGeneration();
        Span span = tracer.spanBuilder("reconcile BrokerCluster").setNoParent().setSpanKind(SpanKind.INTERNAL)
                .setStartTimestamp(startNanos + epochOffsetNanos, TimeUnit.NANOSECONDS)
                .setAttribute(NAMESPACE, cluster.getMetadata().getNamespace()).setAttribute(CLUSTER, cluster.getMetadata().getName())
                .setAttribute(GENERATION, generation == null ? 0L : generation).setAttribute(OUTCOME, outcome)
                .setAttribute(API_CALLS, (long) apiCalls).startSpan();
        if (outcome.equals("error")) {
            span.setStatus(StatusCode.ERROR, "the pass failed; see the operator's log and the cluster's Degraded condition");
        }
        Context inside = Context.root().with(span);
        for (Step s : pass) {
            tracer.spanBuilder(s.name()).setParent(inside).setSpanKind(SpanKind.INTERNAL)
                    .setStartTimestamp(s.startNanos() + epochOffsetNanos, TimeUnit.NANOSECONDS).startSpan()
                    .end(s.endNanos() + epochOffsetNanos, TimeUnit.NANOSECONDS);
        }
        span.end(endNanos + epochOffsetNanos, TimeUnit.NANOSECONDS);
    }

    /** Sends what is queued (tests). */
    public void flush() {
        if (provider != null) {
            provider.forceFlush().join(10, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() {
        if (provider != null) {
            provider.shutdown().join(2, TimeUnit.SECONDS);
        }
    }
}
