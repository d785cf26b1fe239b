package io.capstan.cli;

import io.capstan.broker.Broker;
import io.capstan.config.BrokerConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The README's main job: a local broker on ./data, a durable produce run and a consume run, with figures. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start a local broker (data under --data-dir), produce and consume through it with the Kafka client, print throughput.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--data-dir", defaultValue = "./data", description = "Broker data directory (default ${DEFAULT-VALUE}).") String dataDir;
    @Option(names = {"-n", "--records"}, defaultValue = "200000", description = "Records to produce (default ${DEFAULT-VALUE}).") long records;
    @Option(names = {"-s", "--record-size"}, defaultValue = "1024", description = "Record size (default ${DEFAULT-VALUE}).") int size;
    @Option(names = "--partitions", defaultValue = "4", description = "Partitions of the demo topic (default ${DEFAULT-VALUE}).") int partitions;

    @Override
    public Integer call() throws Exception {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("data.dir", dataDir);
        settings.put("listener.port", "0");
        settings.put("admin.port", "0");
        String topic = "demo-" + System.currentTimeMillis();
        try (Broker broker = new Broker(BrokerConfig.from(settings), settings)) {
            System.out.println("broker up at " + broker.bootstrap() + ", data in " + dataDir + " (flush policy: always, fsync before ack)");
            ClientOptions client = new ClientOptions();
            client.bootstrap = broker.bootstrap();
            try (Admin admin = Admin.create(client.props())) {
                admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
            }
            System.out.printf("producing %,d records of %d bytes to %s (acks=all, idempotent)%n", records, size, topic);
            PerfProduce produce = new PerfProduce();
            produce.client = client;
            produce.topic = topic;
            produce.count = records;
            produce.size = size;
            produce.acks = "all";
            produce.throughput = -1;
            produce.lingerMs = 5;
            produce.batchSize = 65536;
            if (produce.run(System.out) == null) {
                return 1;
            }
            System.out.printf("consuming them back%n");
            PerfConsume consume = new PerfConsume();
            consume.client = client;
            consume.topic = topic;
            consume.count = records;
            consume.timeoutMs = 30_000;
            ProgressReporter.Summary got = consume.run(System.out);
            if (got.records() != records) {
                System.err.println("error: consumed " + got.records() + " of " + records + " records");
                return 1;
            }
            System.out.println("demo ok: every record produced was consumed back");
        }
        return 0;
    }
}
