package io.capstan.broker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/** Polls a consumer until it has {@code count} records or the time is up. */
final class TestPolls {
    private TestPolls() {}

    static <K, V> List<ConsumerRecord<K, V>> until(KafkaConsumer<K, V> consumer, int count, Duration timeout) {
        List<ConsumerRecord<K, V>> got = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (got.size() < count && System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(200)).forEach(got::add);
        }
        return got;
    }
}
