package io.capstan.e2e.compat;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A group member in its own JVM (cooperative-sticky under the classic protocol, or the consumer protocol when the
 * fourth argument is "consumer"), so a test can SIGKILL it like a crashed process. It prints
 * "R value partition offset" for each record once processed and commits after every poll, so its output is what it
 * processed; "G partitions" and "L partitions" when it gains or gives up (or loses) partitions.
 */
public final class GroupMember {
    public static void main(String[] args) {
        Properties p = new Properties();
        p.put("bootstrap.servers", args[0]);
        p.put("group.id", args[1]);
        p.put("enable.auto.commit", "false");
        p.put("auto.offset.reset", "earliest");
        if (args.length > 3 && args[3].equals("consumer")) {
            p.put("group.protocol", "consumer"); // KIP-848: the coordinator sets the session and assigns
        } else {
            p.put("session.timeout.ms", "6000");
            p.put("heartbeat.interval.ms", "500");
            p.put("partition.assignment.strategy", "org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
        }
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            c.subscribe(List.of(args[2]), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    print("G", partitions);
                }

                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    print("L", partitions);
                }
            });
            System.out.println("STARTED");
            System.out.flush();
            while (true) {
                ConsumerRecords<String, String> records = c.poll(Duration.ofMillis(100));
                StringBuilder out = new StringBuilder();
                for (ConsumerRecord<String, String> r : records) {
                    out.append("R ").append(r.value()).append(' ').append(r.partition()).append(' ').append(r.offset()).append('\n');
                }
                System.out.print(out);
                System.out.flush();
                if (!records.isEmpty()) {
                    try {
                        c.commitSync();
                    } catch (org.apache.kafka.common.errors.RebalanceInProgressException | org.apache.kafka.clients.consumer.CommitFailedException e) {
                        // keep polling: uncommitted records are redelivered
                    }
                }
            }
        }
    }

    private static void print(String what, Collection<TopicPartition> partitions) {
        System.out.println(what + " " + partitions.stream().map(tp -> String.valueOf(tp.partition())).collect(Collectors.joining(",")));
        System.out.flush();
    }
}
