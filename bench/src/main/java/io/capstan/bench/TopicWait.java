package io.capstan.bench;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.TopicPartitionInfo;

/** Waits, through the Admin API, until every shard of a topic is in some state (a leader, a full ISR). */
final class TopicWait {
    private static final long TIMEOUT_S = 180;

    private TopicWait() {}

    static void untilEveryShard(Admin admin, String topic, Predicate<TopicPartitionInfo> state, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        while (true) {
            try {
                if (admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().stream().allMatch(state)) {
                    return;
                }
            } catch (java.util.concurrent.ExecutionException notYet) {
                // not in every broker's metadata yet, or a node is restarting: ask again
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not every shard of " + topic + " " + what + " within " + TIMEOUT_S + " s");
            }
            Thread.sleep(200); // polling the brokers' metadata: nothing to wait on instead
        }
    }
}
