package io.capstan.cli;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Topic administration through the Kafka AdminClient, so it works against any Kafka-compatible broker. */
@Command(name = "topic", mixinStandardHelpOptions = true, description = "Create, list, describe and delete topics.",
        subcommands = {TopicCommand.Create.class, TopicCommand.ListTopics.class, TopicCommand.Describe.class, TopicCommand.Delete.class})
final class TopicCommand {

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a topic.")
    static final class Create implements java.util.concurrent.Callable<Integer> {
        @Mixin ClientOptions client;
        @Parameters(index = "0", description = "Topic name.") String name;
        @Option(names = {"-p", "--partitions"}, defaultValue = "1", description = "Shards (default ${DEFAULT-VALUE}).") int partitions;
        @Option(names = {"-r", "--replication-factor"}, defaultValue = "1", description = "Replicas (default ${DEFAULT-VALUE}).") short replicationFactor;
        @Option(names = "--config", description = "Topic config key=value (repeatable), e.g. retention.ms=3600000.") Map<String, String> configs = Map.of();

        @Override
        public Integer call() throws Exception {
            try (Admin admin = Admin.create(client.props())) {
                admin.createTopics(List.of(new NewTopic(name, partitions, replicationFactor).configs(configs))).all().get();
            }
            System.out.println("created topic " + name + " with " + partitions + " partition(s)");
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List topic names.")
    static final class ListTopics implements java.util.concurrent.Callable<Integer> {
        @Mixin ClientOptions client;

        @Override
        public Integer call() throws Exception {
            try (Admin admin = Admin.create(client.props())) {
                new TreeSet<>(admin.listTopics().names().get()).forEach(System.out::println);
            }
            return 0;
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true, description = "Show partitions, leaders, offsets and configs of a topic.")
    static final class Describe implements java.util.concurrent.Callable<Integer> {
        @Mixin ClientOptions client;
        @Parameters(index = "0", description = "Topic name.") String name;

        @Override
        public Integer call() throws Exception {
            try (Admin admin = Admin.create(client.props());
                 KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(client.props(), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                TopicDescription d = admin.describeTopics(List.of(name)).allTopicNames().get().get(name);
                List<TopicPartition> tps = d.partitions().stream().map(p -> new TopicPartition(name, p.partition())).toList();
                Map<TopicPartition, Long> start = consumer.beginningOffsets(tps);
                Map<TopicPartition, Long> end = consumer.endOffsets(tps);
                System.out.printf("topic %s  id %s  partitions %d%n", name, d.topicId(), d.partitions().size());
                System.out.printf("%-10s %-8s %-12s %-12s %-12s %s%n", "PARTITION", "LEADER", "REPLICAS", "ISR", "START", "END");
                d.partitions().forEach(p -> {
                    TopicPartition tp = new TopicPartition(name, p.partition());
                    System.out.printf("%-10d %-8s %-12s %-12s %-12d %d%n", p.partition(), p.leader() == null ? "none" : p.leader().id(),
                            ids(p.replicas()), ids(p.isr()), start.get(tp), end.get(tp));
                });
                ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, name);
                admin.describeConfigs(List.of(res)).all().get().get(res).entries()
                        .forEach(e -> System.out.printf("config %s=%s%s%n", e.name(), e.value(), e.isDefault() ? " (default)" : ""));
            }
            return 0;
        }

        private static String ids(List<org.apache.kafka.common.Node> nodes) {
            return nodes.stream().map(n -> String.valueOf(n.id())).reduce((a, b) -> a + "," + b).orElse("-");
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a topic and all its records.")
    static final class Delete implements java.util.concurrent.Callable<Integer> {
        @Mixin ClientOptions client;
        @Parameters(index = "0", description = "Topic name.") String name;

        @Override
        public Integer call() throws Exception {
            try (Admin admin = Admin.create(client.props())) {
                admin.deleteTopics(List.of(name)).all().get();
            }
            System.out.println("deleted topic " + name);
            return 0;
        }
    }
}
