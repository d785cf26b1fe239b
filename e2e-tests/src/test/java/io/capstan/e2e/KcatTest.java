package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.capstan.broker.Broker;
import io.capstan.config.BrokerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** librdkafka (through kcat) against Capstan: metadata, idempotent produce, consume, and interop with the Java client. */
class KcatTest {
    @TempDir
    Path dir;
    Broker broker;

    @BeforeEach
    void start() throws Exception {
        boolean present = new ProcessBuilder("kcat", "-V").start().waitFor(10, TimeUnit.SECONDS);
        if ("1".equals(System.getenv("CAPSTAN_REQUIRE_KCAT"))) {
            assertThat(present).as("kcat must be installed (apt-get install kcat)").isTrue();
        }
        assumeTrue(present, "kcat is not installed (apt-get install kcat)");
        Map<String, String> settings = Map.of("data.dir", dir.toString(), "listener.port", "0", "admin.port", "-1");
        broker = new Broker(BrokerConfig.from(settings), settings);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic("k", 2, (short) 1))).all().get();
        }
    }

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void kcatListsMetadata() throws Exception {
        String out = kcat(null, "-L");
        assertThat(out).contains("1 brokers:").contains("topic \"k\" with 2 partitions").contains("partition 0, leader 0");
    }

    @Test
    void kcatProducesIdempotentlyAndJavaConsumes() throws Exception {
        StringBuilder input = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            input.append("key").append(i).append(':').append("value-").append(i).append('\n');
        }
        kcat(input.toString(), "-P", "-t", "k", "-K:", "-X", "enable.idempotence=true", "-X", "acks=all");
        List<ConsumerRecord<String, String>> got = javaConsume(1000);
        assertThat(got).hasSize(1000);
        assertThat(got).allSatisfy(r -> assertThat(r.value()).isEqualTo("value-" + r.key().substring(3)));
    }

    @Test
    void javaProducesAndKcatConsumesWithKeysHeadersAndOffsets() throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrap());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 200; i++) {
                ProducerRecord<String, String> r = new ProducerRecord<>("k", 0, "key" + i, "v" + i);
                r.headers().add("h", ("x" + i).getBytes(StandardCharsets.UTF_8));
                producer.send(r);
            }
            producer.flush();
        }
        String out = kcat(null, "-C", "-t", "k", "-p", "0", "-o", "beginning", "-e", "-f", "%o|%k|%s|%h\\n");
        String[] lines = out.strip().split("\n");
        assertThat(lines).hasSize(200);
        for (int i = 0; i < 200; i++) {
            assertThat(lines[i]).isEqualTo(i + "|key" + i + "|v" + i + "|h=x" + i);
        }
        // consuming from an offset and from the end works too
        String tail = kcat(null, "-C", "-t", "k", "-p", "0", "-o", "195", "-e", "-f", "%s\\n");
        assertThat(tail.strip().split("\n")).containsExactly("v195", "v196", "v197", "v198", "v199");
    }

    private String kcat(String stdin, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("kcat", "-b", broker.bootstrap(), "-q"));
        cmd.addAll(List.of(args));
        Process process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        if (stdin != null) {
            process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        process.getOutputStream().close();
        byte[] out = process.getInputStream().readAllBytes();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("kcat finished").isTrue();
        assertThat(process.exitValue()).as("kcat exit code for " + cmd).isZero();
        return new String(out, StandardCharsets.UTF_8);
    }

    private List<ConsumerRecord<String, String>> javaConsume(int expected) {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrap());
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> tps = List.of(new TopicPartition("k", 0), new TopicPartition("k", 1));
            c.assign(tps);
            c.seekToBeginning(tps);
            long deadline = System.currentTimeMillis() + 30_000;
            while (got.size() < expected && System.currentTimeMillis() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(got::add);
            }
        }
        return got;
    }
}
