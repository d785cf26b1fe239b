package io.capstan.console;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * Reads a {@link Snapshot} through the Admin API: DescribeCluster, Metadata, ListOffsets, DescribeLogDirs, ListGroups,
 * DescribeGroups and OffsetFetch, the requests Kafka UI and AKHQ make; the broker's ACLs decide what the console's
 * principal sees. Each call waits at most {@code timeoutMs}.
 */
public final class ClusterReader {
    private final Admin admin;
    private final long timeoutMs;

    public ClusterReader(Admin admin, long timeoutMs) {
        this.admin = admin;
        this.timeoutMs = timeoutMs;
    }

    public Snapshot read() throws Exception {
        long now = System.currentTimeMillis();
        var cluster = admin.describeCluster();
        String clusterId = get(cluster.clusterId());
        Node controller = get(cluster.controller());
        List<Node> nodes = new ArrayList<>(get(cluster.nodes()));
        nodes.sort(Comparator.comparingInt(Node::id));

        Set<String> names = get(admin.listTopics().names());
        Map<String, TopicDescription> described = names.isEmpty() ? Map.of() : get(admin.describeTopics(names).allTopicNames());
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        described.values().forEach(t -> t.partitions().forEach(p -> {
            TopicPartition tp = new TopicPartition(t.name(), p.partition());
            latest.put(tp, OffsetSpec.latest());
            earliest.put(tp, OffsetSpec.earliest());
        }));
        Map<TopicPartition, Long> ends = offsets(latest);
        Map<TopicPartition, Long> starts = offsets(earliest);
        Map<TopicPartition, Long> sizes = leaderSizes(nodes, described);

        Map<Integer, int[]> load = new HashMap<>();
        List<Snapshot.Topic> topics = new ArrayList<>();
        for (TopicDescription t : described.values()) {
            List<Snapshot.Partition> partitions = new ArrayList<>();
            long records = 0;
            long bytes = 0;
            for (TopicPartitionInfo p : t.partitions()) {
                TopicPartition tp = new TopicPartition(t.name(), p.partition());
                long start = starts.getOrDefault(tp, 0L);
                long end = ends.getOrDefault(tp, 0L);
                long size = sizes.getOrDefault(tp, -1L);
                int leader = p.leader() == null ? -1 : p.leader().id();
                partitions.add(new Snapshot.Partition(p.partition(), leader, ids(p.replicas()), ids(p.isr()), start, end, size));
                records += end - start;
                bytes += Math.max(0, size);
                if (leader >= 0) {
                    load.computeIfAbsent(leader, id -> new int[2])[0]++;
                }
                p.replicas().forEach(r -> load.computeIfAbsent(r.id(), id -> new int[2])[1]++);
            }
            partitions.sort(Comparator.comparingInt(Snapshot.Partition::partition));
            int rf = t.partitions().isEmpty() ? 0 : t.partitions().get(0).replicas().size();
            topics.add(new Snapshot.Topic(t.name(), rf, records, bytes, partitions));
        }
        topics.sort(Comparator.comparing(Snapshot.Topic::name));

        List<Snapshot.Broker> brokers = nodes.stream().map(n -> {
            int[] l = load.getOrDefault(n.id(), new int[2]);
            return new Snapshot.Broker(n.id(), n.host(), n.port(), n.rack() == null ? "" : n.rack(), l[0], l[1]);
        }).toList();
        return new Snapshot(now, clusterId, controller == null ? -1 : controller.id(), brokers, topics, groups(ends));
    }

    private List<Snapshot.Group> groups(Map<TopicPartition, Long> ends) throws Exception {
        List<String> ids = get(admin.listConsumerGroups().all()).stream().map(ConsumerGroupListing::groupId).sorted().toList();
        if (ids.isEmpty()) {
            return List.of();
        }
        Map<String, ConsumerGroupDescription> described = get(admin.describeConsumerGroups(ids).all());
        List<Snapshot.Group> groups = new ArrayList<>();
        for (String id : ids) {
            ConsumerGroupDescription d = described.get(id);
            Map<TopicPartition, OffsetAndMetadata> committed = get(admin.listConsumerGroupOffsets(id).partitionsToOffsetAndMetadata());
            Map<TopicPartition, MemberDescription> owners = new HashMap<>();
            d.members().forEach(m -> m.assignment().topicPartitions().forEach(tp -> owners.put(tp, m)));
            java.util.SortedSet<TopicPartition> shown = new java.util.TreeSet<>(
                    Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
            shown.addAll(committed.keySet());
            shown.addAll(owners.keySet());
            List<Snapshot.GroupPartition> partitions = new ArrayList<>();
            long total = 0;
            for (TopicPartition tp : shown) {
                OffsetAndMetadata c = committed.get(tp);
                long end = ends.getOrDefault(tp, 0L);
                long lag = Math.max(0, end - (c == null ? 0 : c.offset()));
                total += lag;
                MemberDescription owner = owners.get(tp);
                partitions.add(new Snapshot.GroupPartition(tp.topic(), tp.partition(), c == null ? -1 : c.offset(), end, lag,
                        owner == null ? "" : owner.clientId(), owner == null ? "" : owner.host()));
            }
            groups.add(new Snapshot.Group(id, d.type().toString(), d.groupState().toString(), d.members().size(), total, partitions));
        }
        return groups;
    }

    private Map<TopicPartition, Long> offsets(Map<TopicPartition, OffsetSpec> specs) throws Exception {
        if (specs.isEmpty()) {
            return Map.of();
        }
        Map<TopicPartition, Long> out = new HashMap<>();
        get(admin.listOffsets(specs).all()).forEach((tp, info) -> out.put(tp, info.offset()));
        return out;
    }

    /** Each partition's size on its leader, from DescribeLogDirs; partitions a broker does not report are left out. */
    private Map<TopicPartition, Long> leaderSizes(List<Node> nodes, Map<String, TopicDescription> topics) throws Exception {
        Map<TopicPartition, Integer> leaders = new HashMap<>();
        topics.values().forEach(t -> t.partitions().forEach(p -> {
            if (p.leader() != null) {
                leaders.put(new TopicPartition(t.name(), p.partition()), p.leader().id());
            }
        }));
        Map<TopicPartition, Long> sizes = new HashMap<>();
        if (leaders.isEmpty()) {
            return sizes;
        }
        Map<Integer, Map<String, LogDirDescription>> dirs = get(admin.describeLogDirs(nodes.stream().map(Node::id).toList()).allDescriptions());
        dirs.forEach((broker, byDir) -> byDir.values().forEach(dir -> {
            for (Map.Entry<TopicPartition, ReplicaInfo> e : dir.replicaInfos().entrySet()) {
                if (broker.equals(leaders.get(e.getKey()))) {
                    sizes.merge(e.getKey(), e.getValue().size(), Long::sum);
                }
            }
        }));
        return sizes;
    }

    private static List<Integer> ids(List<Node> nodes) {
        return nodes.stream().map(Node::id).toList();
    }

    private <T> T get(org.apache.kafka.common.KafkaFuture<T> future) throws Exception {
        try {
            return future.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } catch (TimeoutException e) {
            throw new TimeoutException("the brokers did not answer within " + timeoutMs + " ms; check the bootstrap address and that a broker runs");
        }
    }
}
