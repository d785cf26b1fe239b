package io.capstan.cli;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Prints records of a topic to stdout, reading partitions directly (no consumer group). */
@Command(name = "consume", mixinStandardHelpOptions = true, description = "Print records to stdout (assign mode, no group).")
final class ConsumeCommand implements Callable<Integer> {
    @Mixin ClientOptions client;
    @Option(names = {"-t", "--topic"}, required = true, description = "Topic to read.") String topic;
    @Option(names = {"-p", "--partition"}, description = "Only this partition (default: all).") Integer partition;
    @Option(names = "--from", defaultValue = "latest", description = "beginning, latest, or an offset (default ${DEFAULT-VALUE}).") String from;
    @Option(names = {"-n", "--max-messages"}, defaultValue = "-1", description = "Stop after this many records.") long max;
    @Option(names = "--timeout-ms", defaultValue = "-1", description = "Stop after this long without a record (default: wait forever).") long timeoutMs;
    @Option(names = "--print-key", description = "Print key<TAB>value.") boolean printKey;
    @Option(names = "--print-offset", description = "Print partition:offset<TAB> before each record.") boolean printOffset;
    @Option(names = "--print-headers", description = "Print headers as [k=v,...]<TAB> before the value.") boolean printHeaders;

    @Override
    public Integer call() throws Exception {
        TopicCheck.require(client, topic, false);
        Properties props = client.props();
        props.put("enable.auto.commit", "false");
        props.put("auto.offset.reset", "earliest");
        long count = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            consumer.partitionsFor(topic, client.timeout).forEach(p -> {
                if (partition == null || partition == p.partition()) {
                    tps.add(new TopicPartition(topic, p.partition()));
                }
            });
            if (tps.isEmpty()) {
                System.err.println("error: topic " + topic + " has no partition " + partition + "; see 'capstan topic describe " + topic + "'");
                return 1;
            }
            consumer.assign(tps);
            switch (from) {
                case "beginning" -> consumer.seekToBeginning(tps);
                case "latest" -> consumer.seekToEnd(tps);
                default -> {
                    long offset = Long.parseLong(from);
                    tps.forEach(tp -> consumer.seek(tp, offset));
                }
            }
            long lastRecord = System.currentTimeMillis();
            while (max < 0 || count < max) {
                var records = consumer.poll(Duration.ofMillis(200));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    System.out.println(format(r));
                    lastRecord = System.currentTimeMillis();
                    if (++count == max) {
                        break;
                    }
                }
                if (timeoutMs >= 0 && System.currentTimeMillis() - lastRecord > timeoutMs) {
                    break;
                }
            }
        }
        System.out.flush();
        System.err.println("consumed " + count + " records from " + topic);
        return 0;
    }

    private String format(ConsumerRecord<byte[], byte[]> r) {
        StringBuilder sb = new StringBuilder();
        if (printOffset) {
            sb.append(r.partition()).append(':').append(r.offset()).append('\t');
        }
        if (printKey) {
            sb.append(r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8)).append('\t');
        }
        if (printHeaders) {
            List<String> hs = new ArrayList<>();
            r.headers().forEach(h -> hs.add(h.key() + "=" + (h.value() == null ? "" : new String(h.value(), StandardCharsets.UTF_8))));
            sb.append('[').append(String.join(",", hs)).append(']').append('\t');
        }
        sb.append(r.value() == null ? "" : new String(r.value(), StandardCharsets.UTF_8));
        return sb.toString();
    }
}
