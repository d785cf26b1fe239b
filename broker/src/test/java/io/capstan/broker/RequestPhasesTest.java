package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * capstan_request_phase_seconds splits each request's time as Kafka's request metrics do (local, remote, response
 * queue): every answered request is counted once in each phase, and its phases add up to its total latency.
 */
class RequestPhasesTest {
    @TempDir
    Path dir;

    @Test
    void eachProducesPhasesAddUpToItsLatencyAndItsWaitForTheDiskIsRemote() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("phases", 1, (short) 1))).all().get();
            Properties p = broker.clientProps();
            p.put("acks", "all");
            p.put("linger.ms", "0");
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < 20; i++) {
                    producer.send(new ProducerRecord<>("phases", "v" + i)).get(); // one request each, answered after the fsync
                }
            }
            HistogramSnapshot.HistogramDataPointSnapshot total = point(broker, "capstan_request_latency_seconds", null);
            HistogramSnapshot.HistogramDataPointSnapshot local = point(broker, "capstan_request_phase_seconds", "local");
            HistogramSnapshot.HistogramDataPointSnapshot remote = point(broker, "capstan_request_phase_seconds", "remote");
            HistogramSnapshot.HistogramDataPointSnapshot queued = point(broker, "capstan_request_phase_seconds", "response_queue");
            assertThat(total.getCount()).isGreaterThanOrEqualTo(20);
            assertThat(List.of(local.getCount(), remote.getCount(), queued.getCount())).containsOnly(total.getCount());
            assertThat(local.getSum() + remote.getSum() + queued.getSum()).as("the phases add up to the total")
                    .isCloseTo(total.getSum(), org.assertj.core.data.Offset.offset(total.getSum() * 1e-6));
            assertThat(remote.getSum()).as("acks=all waits for the group commit off the network thread").isGreaterThan(0);
            assertThat(local.getSum()).isGreaterThan(0);
        }
    }

    private static HistogramSnapshot.HistogramDataPointSnapshot point(TestBroker broker, String name, String phase) {
        return broker.broker().metrics().registry().scrape().stream().filter(m -> m.getMetadata().getPrometheusName().equals(name))
                .flatMap(m -> ((HistogramSnapshot) m).getDataPoints().stream())
                .filter(d -> "Produce".equals(d.getLabels().get("api")) && (phase == null || phase.equals(d.getLabels().get("phase"))))
                .findFirst().orElseThrow(() -> new AssertionError("no " + name + " for Produce " + (phase == null ? "" : phase)));
    }
}
