package io.capstan.broker;

import io.capstan.broker.config.BrokerConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/** A real broker on 127.0.0.1 with free ports and a data directory of the test's choosing. */
public final class TestBroker implements AutoCloseable {
    private final Broker broker;

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
        broker = new Broker(BrokerConfig.from(settings), settings);
    }

    public Broker broker() {
        return broker;
    }

    public String bootstrap() {
        return broker.bootstrap();
    }

    public Properties clientProps() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        return p;
    }

    @Override
    public void close() {
        broker.close();
    }
}
