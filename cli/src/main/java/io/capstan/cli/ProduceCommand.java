package io.capstan.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Produces one record per stdin line; keys and headers optional. */
@Command(name = "produce", mixinStandardHelpOptions = true, description = "Produce stdin lines as records (acks=all, idempotent).")
final class ProduceCommand implements Callable<Integer> {
    @Mixin ClientOptions client;
    @Option(names = {"-t", "--topic"}, required = true, description = "Topic to write to.") String topic;
    @Option(names = {"-p", "--partition"}, description = "Partition (default: by key, or spread).") Integer partition;
    @Option(names = {"-K", "--key-separator"}, description = "Split each line at the first occurrence into key and value.") String keySeparator;
    @Option(names = {"-H", "--header"}, description = "Header key=value added to every record (repeatable).") Map<String, String> headers = new LinkedHashMap<>();
    @Option(names = "--acks", defaultValue = "all", description = "0, 1 or all (default ${DEFAULT-VALUE}).") String acks;

    @Override
    public Integer call() throws Exception {
        TopicCheck.require(client, topic, true);
        Properties props = client.props();
        props.put("acks", acks);
        props.put("linger.ms", "5");
        AtomicLong acked = new AtomicLong();
        AtomicReference<Exception> failure = new AtomicReference<>();
        long sent = 0;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
             BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null && failure.get() == null) {
                producer.send(toRecord(line), (md, e) -> {
                    if (e != null) {
                        failure.compareAndSet(null, e);
                    } else {
                        acked.incrementAndGet();
                    }
                });
                sent++;
            }
            producer.flush();
        }
        if (failure.get() != null) {
            System.err.println("error: " + client.explain(failure.get()) + "; " + acked.get() + " of " + sent + " records were acknowledged");
            return 1;
        }
        System.err.println("produced " + acked.get() + " records to " + topic);
        return 0;
    }

    ProducerRecord<byte[], byte[]> toRecord(String line) {
        byte[] key = null;
        String value = line;
        if (keySeparator != null) {
            int at = line.indexOf(keySeparator);
            if (at >= 0) {
                key = line.substring(0, at).getBytes(StandardCharsets.UTF_8);
                value = line.substring(at + keySeparator.length());
            }
        }
        List<org.apache.kafka.common.header.Header> hs = new ArrayList<>();
        headers.forEach((k, v) -> hs.add(new RecordHeader(k, v.getBytes(StandardCharsets.UTF_8))));
        return new ProducerRecord<>(topic, partition, key, value.getBytes(StandardCharsets.UTF_8), hs);
    }
}
