package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.quota.ClientQuotaFilterComponent;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Byte-rate and request-time quotas through Kafka's own AdminClient and clients: set and described as Kafka's tools do, refused with
 * Kafka's INVALID_REQUEST and a message when malformed, and enforced: a producer and a consumer over their quota are
 * told to wait (their clients' own throttle-time metrics show it) while another client on the same broker is not,
 * and every record still arrives.
 */
class ClientQuotasTest {
    private static final String TOPIC = "quoted";
    /** 40 records of 2 KB per client against 20 KB/s measured over 3 samples of 1 s: about 4 s at the quota, 2 s of it throttled. */
    private static final int RECORDS = 40;
    private static final byte[] VALUE = new byte[2_000];

    @TempDir
    Path dir;

    @Test
    void quotasAreSetDescribedAndRefusedAsKafkaDoes() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            ClientQuotaEntity app = new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "app"));
            java.util.HashMap<String, String> defaultUser = new java.util.HashMap<>();
            defaultUser.put(ClientQuotaEntity.USER, null);
            ClientQuotaEntity anyUser = new ClientQuotaEntity(defaultUser);
            admin.alterClientQuotas(List.of(
                    new ClientQuotaAlteration(app, List.of(new ClientQuotaAlteration.Op("producer_byte_rate", 1_048_576.0),
                            new ClientQuotaAlteration.Op("consumer_byte_rate", 2_097_152.0),
                            new ClientQuotaAlteration.Op("request_percentage", 12.5))),
                    new ClientQuotaAlteration(anyUser, List.of(new ClientQuotaAlteration.Op("producer_byte_rate", 4_194_304.0))))).all().get();

            assertThat(admin.describeClientQuotas(ClientQuotaFilter.all()).entities().get())
                    .containsEntry(app, Map.of("producer_byte_rate", 1_048_576.0, "consumer_byte_rate", 2_097_152.0, "request_percentage", 12.5))
                    .containsEntry(anyUser, Map.of("producer_byte_rate", 4_194_304.0)).hasSize(2);
            assertThat(admin.describeClientQuotas(ClientQuotaFilter.containsOnly(
                    List.of(ClientQuotaFilterComponent.ofDefaultEntity(ClientQuotaEntity.USER)))).entities().get()).containsOnlyKeys(anyUser);
            assertThat(admin.describeClientQuotas(ClientQuotaFilter.contains(
                    List.of(ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.CLIENT_ID, "app")))).entities().get()).containsOnlyKeys(app);

            // removing one key keeps the other; validate-only changes nothing
            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(app, List.of(new ClientQuotaAlteration.Op("consumer_byte_rate", null))))).all().get();
            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(app, List.of(new ClientQuotaAlteration.Op("producer_byte_rate", 1.0)))),
                    new org.apache.kafka.clients.admin.AlterClientQuotasOptions().validateOnly(true)).all().get();
            assertThat(admin.describeClientQuotas(ClientQuotaFilter.all()).entities().get())
                    .containsEntry(app, Map.of("producer_byte_rate", 1_048_576.0, "request_percentage", 12.5));

            assertRefused(admin, app, "controller_mutation_rate", 50.0, "controller_mutation_rate is not enforced by Capstan");
            assertRefused(admin, app, "request_percentage", 0.0, "Quota request_percentage must be greater than 0");
            assertRefused(admin, app, "no_such_quota", 1.0, "Invalid configuration key no_such_quota");
            assertRefused(admin, app, "producer_byte_rate", -1.0, "Quota producer_byte_rate must be greater than 0");
            assertRefused(admin, app, "producer_byte_rate", 1.5, "producer_byte_rate cannot be a fractional value.");
            assertRefused(admin, new ClientQuotaEntity(Map.of("ip", "127.0.0.1")), "connection_creation_rate", 10.0, "IP quotas");
            assertRefused(admin, new ClientQuotaEntity(Map.of("group", "g")), "producer_byte_rate", 10.0, "Unhandled client quota entity type: group");
            assertThat(admin.describeClientQuotas(ClientQuotaFilter.all()).entities().get()).hasSize(2);
        }
    }

    private static void assertRefused(Admin admin, ClientQuotaEntity entity, String key, double value, String message) {
        assertThatThrownBy(() -> admin.alterClientQuotas(List.of(new ClientQuotaAlteration(entity, List.of(new ClientQuotaAlteration.Op(key, value)))))
                .all().get()).isInstanceOf(ExecutionException.class).cause().isInstanceOf(InvalidRequestException.class).hasMessageContaining(message);
    }

    @Test
    void aClientOverItsQuotaIsThrottledAndAnotherIsNot() throws Exception {
        try (TestBroker broker = new TestBroker(dir, Map.of("quota.window.num", "3")); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1))).all().get();
            admin.alterClientQuotas(List.of(
                    new ClientQuotaAlteration(new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "slow")),
                            List.of(new ClientQuotaAlteration.Op("producer_byte_rate", 20_000.0), new ClientQuotaAlteration.Op("consumer_byte_rate", 20_000.0))))).all().get();

            try (KafkaProducer<byte[], byte[]> slow = producer(broker, "slow"); KafkaProducer<byte[], byte[]> fast = producer(broker, "fast")) {
                List<Future<RecordMetadata>> slowSends = send(slow, "slow", 0);
                List<Future<RecordMetadata>> fastSends = send(fast, "fast", 1);
                for (Future<RecordMetadata> f : fastSends) {
                    f.get();
                }
                for (Future<RecordMetadata> f : slowSends) {
                    f.get();
                }
                System.out.printf("slow producer: %.0f ms max throttle, %.0f ms average%n", metric(slow.metrics(), "producer-metrics", "produce-throttle-time-max"),
                        metric(slow.metrics(), "producer-metrics", "produce-throttle-time-avg"));
                assertThat(metric(slow.metrics(), "producer-metrics", "produce-throttle-time-max")).as("slow producer told to wait").isPositive();
                assertThat(metric(fast.metrics(), "producer-metrics", "produce-throttle-time-max")).as("fast producer never throttled").isZero();
            }

            long consumeStart = System.nanoTime();
            double slowThrottle = consume(broker, "slow", List.of(new TopicPartition(TOPIC, 0)));
            double fastThrottle = consume(broker, "fast", List.of(new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 1)));
            System.out.printf("throttled: producer and consumer, %.0f ms max fetch throttle; reading took %d ms%n", slowThrottle,
                    (System.nanoTime() - consumeStart) / 1_000_000);
            assertThat(slowThrottle).as("slow consumer told to wait").isPositive();
            assertThat(fastThrottle).as("fast consumer never throttled").isZero();
            String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                    "http://127.0.0.1:" + broker.broker().adminPort() + "/metrics")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            assertThat(counter(metrics, "capstan_client_throttled_requests_total{request=\"Produce\"}")).isPositive();
            assertThat(counter(metrics, "capstan_client_throttled_requests_total{request=\"Fetch\"}")).isPositive();
            assertThat(counter(metrics, "capstan_client_throttle_seconds_total{request=\"Produce\"}")).isPositive();
        }
    }

    /**
     * request_percentage: a producer allowed 0.01% of a thread (0.2 ms of broker thread time over the 2 s a 3-sample
     * window measures at least) is told to wait once its requests used more; a producer without a quota never is; every
     * record of both arrives.
     */
    @Test
    void aClientOverItsRequestTimeIsThrottledAndAnotherIsNot() throws Exception {
        try (TestBroker broker = new TestBroker(dir, Map.of("quota.window.num", "3")); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1))).all().get();
            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "busy")),
                    List.of(new ClientQuotaAlteration.Op("request_percentage", 0.01))))).all().get();
            int sent = 0;
            try (KafkaProducer<byte[], byte[]> busy = producer(broker, "busy"); KafkaProducer<byte[], byte[]> calm = producer(broker, "calm")) {
                // one request each: each send waits for its answer. Until the busy one is throttled, up to forty: ten small
                // produce requests of a warm broker once took under the 0.2 ms of thread time the quota allows
                for (int i = 0; i < 40 && (i < 10 || metric(busy.metrics(), "producer-metrics", "produce-throttle-time-max") <= 0); i++) {
                    busy.send(new ProducerRecord<>(TOPIC, 0, ("busy-" + i).getBytes(), VALUE)).get();
                    calm.send(new ProducerRecord<>(TOPIC, 1, ("calm-" + i).getBytes(), VALUE)).get();
                    sent++;
                }
                System.out.printf("request time over its quota: %.0f ms max throttle%n", metric(busy.metrics(), "producer-metrics", "produce-throttle-time-max"));
                assertThat(metric(busy.metrics(), "producer-metrics", "produce-throttle-time-max")).as("busy producer told to wait").isPositive();
                assertThat(metric(calm.metrics(), "producer-metrics", "produce-throttle-time-max")).as("calm producer never throttled").isZero();
            }
            try (KafkaConsumer<byte[], byte[]> check = new KafkaConsumer<>(broker.clientProps(), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                List<TopicPartition> both = List.of(new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 1));
                check.assign(both);
                check.seekToBeginning(both);
                java.util.Set<String> seen = new java.util.HashSet<>();
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
                while (seen.size() < 2 * sent && System.nanoTime() < deadline) {
                    check.poll(java.time.Duration.ofMillis(200)).forEach(r -> assertThat(seen.add(new String(r.key()))).isTrue());
                }
                assertThat(seen).hasSize(2 * sent);
            }
        }
    }

    private static KafkaProducer<byte[], byte[]> producer(TestBroker broker, String clientId) {
        Properties p = broker.clientProps();
        p.put("client.id", clientId);
        p.put("acks", "all");
        p.put("linger.ms", "0");
        p.put("batch.size", "4096");
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static List<Future<RecordMetadata>> send(KafkaProducer<byte[], byte[]> producer, String who, int partition) {
        List<Future<RecordMetadata>> sends = new ArrayList<>();
        for (int i = 0; i < RECORDS; i++) {
            sends.add(producer.send(new ProducerRecord<>(TOPIC, partition, (who + "-" + i).getBytes(), VALUE)));
        }
        return sends;
    }

    /** Reads the partitions from the start (every record checked by key) as {@code clientId}; returns its fetch throttle max. */
    private static double consume(TestBroker broker, String clientId, List<TopicPartition> partitions) {
        Properties p = broker.clientProps();
        p.put("client.id", clientId);
        p.put("max.partition.fetch.bytes", "16384");
        java.util.Set<String> seen = new java.util.HashSet<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(120);
            while (seen.size() < partitions.size() * RECORDS && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(java.time.Duration.ofMillis(200))) {
                    assertThat(r.value()).isEqualTo(VALUE);
                    assertThat(seen.add(new String(r.key()))).as("record %s read once", new String(r.key())).isTrue();
                }
            }
            assertThat(seen).hasSize(partitions.size() * RECORDS);
            return metric(consumer.metrics(), "consumer-fetch-manager-metrics", "fetch-throttle-time-max");
        }
    }

    private static double counter(String exposition, String series) {
        return exposition.lines().filter(l -> l.startsWith(series + " ")).mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1)))
                .findFirst().orElseThrow(() -> new AssertionError("no series " + series + " in /metrics"));
    }

    private static double metric(Map<MetricName, ? extends Metric> metrics, String group, String name) {
        return metrics.entrySet().stream().filter(e -> e.getKey().group().equals(group) && e.getKey().name().equals(name))
                .mapToDouble(e -> {
                    Object v = e.getValue().metricValue();
                    return v instanceof Double d && !d.isNaN() ? d : 0.0;
                }).max().orElseThrow(() -> new AssertionError("no metric " + group + "/" + name));
    }
}
