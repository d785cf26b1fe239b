package io.capstan.e2e.compat;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A group member in its own JVM (cooperative-sticky under the classic protocol, or the consumer protocol when the
 * fourth argument is "consumer"), so a test can SIGKILL it like a crashed process. It prints
 * each record's value once processed and commits after every poll, so its output is what it processed.
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
            c.subscribe(List.of(args[2]));
            System.out.println("STARTED");
            System.out.flush();
            while (true) {
                ConsumerRecords<String, String> records = c.poll(Duration.ofMillis(100));
                StringBuilder out = new StringBuilder();
                for (ConsumerRecord<String, String> r : records) {
                    out.append("R ").append(r.value()).append('\n');
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
}
