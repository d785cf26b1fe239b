package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.broker.trace.OtlpReceiver;
import io.capstan.broker.trace.OtlpReceiver.ReceivedSpan;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Request tracing (decision 0032) end to end: a real broker exports over OTLP/HTTP to a receiver that decodes the
 * protocol's protobuf; real Kafka clients produce and fetch. A producer's sampled traceparent header is followed, a
 * slow request is traced at a sampling ratio of 0, and nothing else is.
 */
class TracingTest {
    private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String CALLER_SPAN = "00f067aa0ba902b7";

    @TempDir
    Path dir;

    private static Map<String, String> tracing(OtlpReceiver receiver, String slowMs) {
        return Map.of("tracing.otlp.endpoint", receiver.endpoint(), "tracing.sampling.ratio", "0", "tracing.slow.request.ms", slowMs);
    }

    private static KafkaProducer<String, String> producer(TestBroker broker) {
        Properties p = broker.clientProps();
        p.put("acks", "all");
        p.put("linger.ms", "0");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    @Test
    void aProduceCarryingASampledTraceparentIsTracedPhaseByPhaseUnderTheCallersSpan() throws Exception {
        try (OtlpReceiver receiver = new OtlpReceiver();
             TestBroker broker = new TestBroker(dir, tracing(receiver, "60000"));
             Admin admin = Admin.create(broker.clientProps());
             KafkaProducer<String, String> producer = producer(broker)) {
            admin.createTopics(List.of(new NewTopic("traced", 1, (short) 1))).all().get();
            ProducerRecord<String, String> record = new ProducerRecord<>("traced", "k", "v");
            record.headers().add("traceparent", ("00-" + TRACE_ID + "-" + CALLER_SPAN + "-01").getBytes(StandardCharsets.US_ASCII));
            producer.send(record).get();
            for (int i = 0; i < 5; i++) {
                producer.send(new ProducerRecord<>("traced", "k", "untraced-" + i)).get();
            }
            broker.broker().tracer().flush();
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> roots(receiver).size() >= 1);
            broker.broker().tracer().flush();

            List<ReceivedSpan> roots = roots(receiver);
            assertThat(roots).as("only the produce that carried a sampled traceparent: ratio 0, nothing near 60 s")
                    .extracting(ReceivedSpan::name).containsExactly("Produce");
            ReceivedSpan produce = roots.get(0);
            assertThat(produce.traceId()).isEqualTo(TRACE_ID);
            assertThat(produce.parentSpanId()).as("a child of the producer's span").isEqualTo(CALLER_SPAN);
            assertThat(produce.kind()).isEqualTo("SPAN_KIND_SERVER");
            assertThat(produce.attributes()).containsEntry("kafka.api", "Produce").containsEntry("capstan.trace.reason", "parent_sampled")
                    .containsEntry("capstan.listener", "PLAINTEXT").containsEntry("client.address", "127.0.0.1")
                    .containsKey("kafka.client.id").containsKey("capstan.request.bytes");
            assertThat(produce.resource()).containsEntry("service.name", "capstan-broker").containsEntry("service.instance.id", "capstan-local/0");
            assertThat(receiver.contentTypes()).allMatch(type -> type.startsWith("application/x-protobuf"));

            List<ReceivedSpan> phases = receiver.spans().stream().filter(s -> s.parentSpanId().equals(produce.spanId())).toList();
            assertThat(phases).extracting(ReceivedSpan::name)
                    .containsExactly("handle", "log.queue", "log.write", "log.sync.queue", "log.fsync", "replicate", "response.queue");
            assertThat(spansCounted(broker, "exported")).as("what the broker's /metrics says it sent").isEqualTo(receiver.spans().size());
            assertThat(spansCounted(broker, "failed")).isZero();
            long previousEnd = produce.startNanos();
            for (ReceivedSpan phase : phases) {
                assertThat(phase.traceId()).isEqualTo(TRACE_ID);
                assertThat(phase.kind()).isEqualTo("SPAN_KIND_INTERNAL");
                assertThat(phase.startNanos()).as("%s starts within the request", phase.name()).isBetween(produce.startNanos(), produce.endNanos());
                assertThat(phase.endNanos()).as("%s ends within the request", phase.name()).isBetween(phase.startNanos(), produce.endNanos());
                if (!phase.name().equals("log.queue")) {
                    // the log's queue starts when the batch is handed over, inside "handle"
                    assertThat(phase.startNanos()).as("%s follows the phase before it", phase.name()).isGreaterThanOrEqualTo(previousEnd);
                }
                previousEnd = phase.endNanos();
            }
        }
    }

    @Test
    void aSlowRequestIsTracedWithoutSamplingAndTheFastOnesAreNot() throws Exception {
        long slowNanos = 1_500_000_000L;
        try (OtlpReceiver receiver = new OtlpReceiver();
             TestBroker broker = new TestBroker(dir, tracing(receiver, "1500"));
             Admin admin = Admin.create(broker.clientProps());
             KafkaProducer<String, String> producer = producer(broker)) {
            admin.createTopics(List.of(new NewTopic("quiet", 1, (short) 1))).all().get();
            for (int i = 0; i < 3; i++) {
                producer.send(new ProducerRecord<>("quiet", "k", "fast-" + i)).get();
            }
            Properties c = broker.clientProps();
            c.put("fetch.max.wait.ms", "2500");
            c.put("fetch.min.bytes", "1000000"); // more than there is: each fetch waits its whole 2.5 s at the broker
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
                TopicPartition tp = new TopicPartition("quiet", 0);
                consumer.assign(List.of(tp));
                consumer.seek(tp, 3);
                Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
                    consumer.poll(Duration.ofMillis(500));
                    broker.broker().tracer().flush();
                    return roots(receiver).stream().anyMatch(s -> s.name().equals("Fetch"));
                });
            }
            List<ReceivedSpan> roots = roots(receiver);
            assertThat(roots).as("every traced request was slow: the sampling ratio is 0 and no record carries a traceparent")
                    .allSatisfy(root -> {
                        assertThat(root.attributes()).containsEntry("capstan.trace.reason", "slow");
                        assertThat(root.durationNanos()).isGreaterThanOrEqualTo(slowNanos);
                    });
            ReceivedSpan fetch = roots.stream().filter(s -> s.name().equals("Fetch")).findFirst().orElseThrow();
            assertThat(fetch.parentSpanId()).as("a new trace").isEmpty();
            List<ReceivedSpan> phases = receiver.spans().stream().filter(s -> s.parentSpanId().equals(fetch.spanId())).toList();
            assertThat(phases).extracting(ReceivedSpan::name).containsExactly("handle", "wait", "response.queue");
            assertThat(phases.get(1).durationNanos()).as("the fetch waited in the broker for data that did not come")
                    .isGreaterThanOrEqualTo(2_000_000_000L);
        }
    }

    @Test
    void aCollectorThatIsNotThereCostsTheClientsNothing() throws Exception {
        Map<String, String> settings = Map.of("tracing.otlp.endpoint", "http://127.0.0.1:1/v1/traces", "tracing.sampling.ratio", "1");
        try (TestBroker broker = new TestBroker(dir, settings);
             Admin admin = Admin.create(broker.clientProps());
             KafkaProducer<String, String> producer = producer(broker)) {
            admin.createTopics(List.of(new NewTopic("t", 1, (short) 1))).all().get();
            for (int i = 0; i < 20; i++) {
                assertThat(producer.send(new ProducerRecord<>("t", "k", "v" + i)).get().offset()).isEqualTo(i);
            }
            assertThat(broker.readFromStart("t", 1, 20)).hasSize(20);
            // the lost spans are counted (after the exporter's retries) for an alert to see
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> spansCounted(broker, "failed") > 0);
            assertThat(spansCounted(broker, "exported")).isZero();
        }
    }

    /** capstan_trace_spans_total{outcome} as the broker's metrics registry serves it. */
    private static double spansCounted(TestBroker broker, String outcome) {
        for (var m : broker.broker().metrics().registry().scrape()) {
            if (m.getMetadata().getPrometheusName().equals("capstan_trace_spans")) {
                for (var d : m.getDataPoints()) {
                    if (outcome.equals(d.getLabels().get("outcome"))) {
                        return ((io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot) d).getValue();
                    }
                }
            }
        }
        throw new AssertionError("capstan_trace_spans_total{outcome=" + outcome + "} is not served");
    }

    private static List<ReceivedSpan> roots(OtlpReceiver receiver) {
        return receiver.spans().stream().filter(s -> s.kind().equals("SPAN_KIND_SERVER")).toList();
    }
}
