package io.capstan.cli;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Consumer-group administration through the Kafka AdminClient. */
@Command(name = "group", mixinStandardHelpOptions = true, description = "List, describe, reset and delete consumer groups.",
        subcommands = {GroupCommand.ListGroups.class, GroupCommand.Describe.class, GroupCommand.ResetOffsets.class, GroupCommand.Delete.class})
final class GroupCommand {

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List consumer groups and their states.")
    static final class ListGroups implements Callable<Integer> {
        @Mixin ClientOptions client;

        @Override
        public Integer call() throws Exception {
            try (Admin admin = Admin.create(client.props())) {
                var groups = new ArrayList<>(admin.listConsumerGroups().all().get());
                groups.sort((a, b) -> a.groupId().compareTo(b.groupId()));
                System.out.printf("%-40s %s%n", "GROUP", "STATE");
                groups.forEach(g -> System.out.printf("%-40s %s%n", g.groupId(), g.groupState().map(Object::toString).orElse("?")));
            }
            return 0;
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true, description = "Members, assignments, committed offsets and lag of a group.")
    static final class Describe implements Callable<Integer> {
        @Mixin ClientOptions client;
        @Parameters(index = "0", description = "Group id.") String group;

        @Override
        public Integer call() throws Exception {
            try (Admin admin = Admin.create(client.props());
                 KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(client.props(), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
                Map<TopicPartition, MemberDescription> owner = new HashMap<>();
                d.members().forEach(m -> m.assignment().topicPartitions().forEach(tp -> owner.put(tp, m)));
                Map<TopicPartition, Long> ends = consumer.endOffsets(union(committed.keySet(), owner.keySet()));
                // type: classic (JoinGroup) or consumer (KIP-848, group.protocol=consumer); epoch only for the latter
                System.out.printf("group %s  type %s  state %s  members %d  assignor %s%s%n", group, d.type(), d.groupState(), d.members().size(),
                        d.partitionAssignor(), d.groupEpoch().map(e -> "  epoch " + e).orElse(""));
                System.out.printf("%-24s %-9s %-14s %-14s %-8s %-48s %s%n", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "CLIENT-ID");
                Map<TopicPartition, Long> sorted = new TreeMap<>((a, b) -> a.topic().equals(b.topic())
                        ? Integer.compare(a.partition(), b.partition()) : a.topic().compareTo(b.topic()));
                sorted.putAll(ends);
                sorted.forEach((tp, end) -> {
                    OffsetAndMetadata c = committed.get(tp);
                    MemberDescription m = owner.get(tp);
                    System.out.printf("%-24s %-9d %-14s %-14d %-8s %-48s %s%n", tp.topic(), tp.partition(),
                            c == null ? "-" : String.valueOf(c.offset()), end, c == null ? "-" : String.valueOf(end - c.offset()),
                            m == null ? "-" : m.consumerId(), m == null ? "-" : m.clientId());
                });
            }
            return 0;
        }

        private static List<TopicPartition> union(Collection<TopicPartition> a, Collection<TopicPartition> b) {
            List<TopicPartition> all = new ArrayList<>(a);
            b.stream().filter(tp -> !a.contains(tp)).forEach(all::add);
            return all;
        }
    }

    @Command(name = "reset-offsets", mixinStandardHelpOptions = true,
            description = "Move a group's committed offsets (the group must have no members). Dry run unless --execute.")
    static final class ResetOffsets implements Callable<Integer> {
        @Mixin ClientOptions client;
        @Parameters(index = "0", description = "Group id.") String group;
        @Option(names = {"-t", "--topic"}, required = true, description = "Topic whose partitions to reset.") String topic;
        @ArgGroup(exclusive = true, multiplicity = "1") Target target;
        @Option(names = "--execute", description = "Apply the change (default: only show it).") boolean execute;

        static final class Target {
            @Option(names = "--to-earliest", description = "The first retained offset.") boolean earliest;
            @Option(names = "--to-latest", description = "The log end.") boolean latest;
            @Option(names = "--to-offset", description = "This offset in every partition.") Long offset;
        }

        @Override
        public Integer call() throws Exception {
            try (Admin admin = Admin.create(client.props());
                 KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(client.props(), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                List<TopicPartition> tps = consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
                Map<TopicPartition, Long> targets = target.earliest ? consumer.beginningOffsets(tps)
                        : target.latest ? consumer.endOffsets(tps) : fixed(tps, target.offset);
                Map<TopicPartition, OffsetAndMetadata> change = new HashMap<>();
                targets.forEach((tp, o) -> change.put(tp, new OffsetAndMetadata(o)));
                new TreeMap<>(change.entrySet().stream().collect(java.util.stream.Collectors.toMap(e -> e.getKey().partition(), e -> e.getValue().offset())))
                        .forEach((p, o) -> System.out.printf("%s %d -> %d%n", topic, p, o));
                if (!execute) {
                    System.out.println("dry run: add --execute to apply");
                    return 0;
                }
                admin.alterConsumerGroupOffsets(group, change).all().get();
                System.out.println("reset " + change.size() + " partition(s) of group " + group);
            }
            return 0;
        }

        private static Map<TopicPartition, Long> fixed(List<TopicPartition> tps, long offset) {
            Map<TopicPartition, Long> m = new HashMap<>();
            tps.forEach(tp -> m.put(tp, offset));
            return m;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a group without members, and its offsets.")
    static final class Delete implements Callable<Integer> {
        @Mixin ClientOptions client;
        @Parameters(index = "0", description = "Group id.") String group;

        @Override
        public Integer call() throws Exception {
            try (Admin admin = Admin.create(client.props())) {
                admin.deleteConsumerGroups(List.of(group)).all().get();
            }
            System.out.println("deleted group " + group);
            return 0;
        }
    }
}
