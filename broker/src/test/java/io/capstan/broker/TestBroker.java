package io.capstan.broker;

import io.capstan.config.BrokerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * A real broker on 127.0.0.1 with free ports and a data directory of the test's choosing. A fatal error (which would
 * halt a broker's own process) is recorded instead, and fails the test when the broker is closed.
 */
public final class TestBroker implements AutoCloseable {
    private final Broker broker;
    private final List<String> fatalErrors = new java.util.concurrent.CopyOnWriteArrayList<>();
    private boolean stopped;

    public TestBroker(Path dataDir) {
        this(dataDir, Map.of());
    }

    public TestBroker(Path dataDir, Map<String, String> overrides) {
        Map<String, String> settings = new HashMap<>();
        settings.put("listener.port", "0");
        settings.put("admin.port", "0");
        settings.put("data.dir", dataDir.toString());
        settings.put("disk.min.free.bytes", "0");
        settings.put("group.initial.rebalance.delay.ms", "0");
        settings.putAll(overrides);
        if (overrides.containsKey("listeners")) {
            settings.remove("listener.port");
        }
        broker = new Broker(BrokerConfig.from(settings), settings, (what, cause) -> fatalErrors.add(what));
    }

    /** The fatal errors the broker reported so far (in production each would have halted it), cleared: a test that expects one takes it. */
    public List<String> takeFatalErrors() {
        List<String> taken = List.copyOf(fatalErrors);
        fatalErrors.removeAll(taken);
        return taken;
    }

    public Broker broker() {
        return broker;
    }

    public String bootstrap() {
        return broker.bootstrap();
    }

    /** host:port of the named listener (for tests with several listeners). */
    public String bootstrap(String listener) {
        return "127.0.0.1:" + broker.port(listener);
    }

    public Properties clientProps() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        return p;
    }

    /** Reads partitions 0..n-1 of a topic from the beginning with an assign-mode consumer until {@code expected} records or 60 s. */
    public List<ConsumerRecord<String, String>> readFromStart(String topic, int partitions, int expected) {
        return readFromStart(clientProps(), topic, partitions, expected);
    }

    /** The same with the given client settings (security protocol, credentials). */
    public static List<ConsumerRecord<String, String>> readFromStart(Properties client, String topic, int partitions, int expected) {
        Properties p = new Properties();
        p.putAll(client);
        p.put("enable.auto.commit", "false");
        p.put("auto.offset.reset", "earliest");
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < partitions; i++) {
                tps.add(new TopicPartition(topic, i));
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            long deadline = System.currentTimeMillis() + 60_000;
            while (got.size() < expected && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(got::add);
            }
        }
        return got;
    }

    /**
     * Stops the broker and returns the fatal errors it reported that no test took: a test that provoked one may see it
     * again from a request still in flight when its client closed. {@link #close()} then finds none.
     */
    public List<String> stopAndTakeFatalErrors() {
        stop();
        return takeFatalErrors();
    }

    private void stop() {
        if (!stopped) {
            stopped = true;
            broker.close();
        }
    }

    @Override
    public void close() {
        stop();
        if (!fatalErrors.isEmpty()) {
            throw new AssertionError("the broker hit a fatal error (in production it would have halted): " + fatalErrors);
        }
    }
}
