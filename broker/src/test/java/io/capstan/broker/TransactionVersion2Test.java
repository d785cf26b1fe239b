package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.broker.log.Shard;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transaction version 2 (KIP-890 part 2) with Kafka's own producer: the broker reports the feature, every transaction
 * end moves the producer epoch on, a write the producer sent in one transaction that arrives after the next one began
 * is refused instead of joining it, and with {@code transaction.version=1} the producer keeps its epoch (version 1).
 */
class TransactionVersion2Test {
    @TempDir
    Path dir;

    @Test
    void everyEndMovesTheEpochOnAndALateWriteCannotJoinTheNextTransaction() throws Exception {
        try (TestBroker broker = start(2); KafkaProducer<String, String> producer = producer(broker, "tv2")) {
            assertThat(transactionVersion(broker)).isEqualTo((short) 2);
            producer.initTransactions();
            int first = describe(broker, "tv2").producerEpoch();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("out", 0, "k", "one")).get();
            producer.commitTransaction();
            awaitState(broker, "tv2", "CompleteCommit");
            TransactionDescription afterCommit = describe(broker, "tv2");
            assertThat(afterCommit.producerEpoch()).as("the commit moved the epoch on").isEqualTo(first + 1);

            producer.beginTransaction();
            producer.send(new ProducerRecord<>("out", 0, "k", "two")).get(); // the partition is in the new transaction
            Shard shard = broker.broker().logs().catalog().shard(new TopicPartition("out", 0));
            long end = shard.logEnd();
            // a batch of the first transaction, delayed in the network, arrives now with that transaction's epoch
            var late = org.apache.kafka.common.record.internal.MemoryRecords.withTransactionalRecords(
                    org.apache.kafka.common.compress.Compression.NONE, afterCommit.producerId(), (short) first, 1,
                    new org.apache.kafka.common.record.internal.SimpleRecord("late".getBytes()));
            try (RawKafkaConnection c = new RawKafkaConnection(broker.broker().port())) {
                ProduceResponseData r = c.send(ApiKeys.PRODUCE, (short) 12, Batches.produce("out", 0, late).setTransactionalId("tv2")
                        .setAcks((short) -1));
                var partition = r.responses().iterator().next().partitionResponses().get(0);
                assertThat(Errors.forCode(partition.errorCode())).as("%s", partition.errorMessage())
                        .isIn(Errors.INVALID_PRODUCER_EPOCH, Errors.PRODUCER_FENCED);
            }
            assertThat(shard.logEnd()).as("the late write was not appended").isEqualTo(end);
            producer.commitTransaction();
            awaitState(broker, "tv2", "CompleteCommit");
            assertThat(describe(broker, "tv2").producerEpoch()).isEqualTo(first + 2);

            producer.beginTransaction();
            producer.send(new ProducerRecord<>("out", 1, "k", "aborted")).get();
            producer.abortTransaction();
            awaitState(broker, "tv2", "CompleteAbort");
            assertThat(describe(broker, "tv2").producerEpoch()).as("an abort moves it on too").isEqualTo(first + 3);
            assertThat(readCommitted(broker, 2)).containsExactlyInAnyOrder("one", "two");
        }
    }

    @Test
    void withTransactionVersion1TheProducerKeepsItsEpochAcrossTransactions() throws Exception {
        try (TestBroker broker = start(1); KafkaProducer<String, String> producer = producer(broker, "tv1")) {
            assertThat(transactionVersion(broker)).isEqualTo((short) 1);
            producer.initTransactions();
            int epoch = describe(broker, "tv1").producerEpoch();
            for (int i = 0; i < 3; i++) {
                producer.beginTransaction();
                producer.send(new ProducerRecord<>("out", i % 2, "k", "v" + i)).get();
                producer.commitTransaction();
            }
            awaitState(broker, "tv1", "CompleteCommit");
            assertThat(describe(broker, "tv1").producerEpoch()).isEqualTo(epoch);
            assertThat(readCommitted(broker, 3)).containsExactlyInAnyOrder("v0", "v1", "v2");
        }
    }

    private TestBroker start(int transactionVersion) throws Exception {
        TestBroker broker = new TestBroker(dir, Map.of("transaction.version", String.valueOf(transactionVersion)));
        try (Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("out", 2, (short) 1))).all().get();
        }
        return broker;
    }

    private static short transactionVersion(TestBroker broker) throws Exception {
        try (RawKafkaConnection c = new RawKafkaConnection(broker.broker().port())) {
            ApiVersionsResponseData r = c.send(ApiKeys.API_VERSIONS, (short) 3, new ApiVersionsRequestData()
                    .setClientSoftwareName("test").setClientSoftwareVersion("1"));
            var finalized = r.finalizedFeatures().find("transaction.version");
            return finalized == null ? -1 : finalized.maxVersionLevel();
        }
    }

    private static KafkaProducer<String, String> producer(TestBroker broker, String transactionalId) {
        Properties p = broker.clientProps();
        p.put("transactional.id", transactionalId);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private static TransactionDescription describe(TestBroker broker, String id) throws Exception {
        try (Admin admin = Admin.create(broker.clientProps())) {
            return admin.describeTransactions(List.of(id)).description(id).get();
        }
    }

    private static void awaitState(TestBroker broker, String id, String state) {
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> describe(broker, id).state().toString().equals(state));
    }

    private static List<String> readCommitted(TestBroker broker, int expected) {
        Properties p = broker.clientProps();
        p.put("isolation.level", "read_committed");
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            c.assign(List.of(new TopicPartition("out", 0), new TopicPartition("out", 1)));
            c.seekToBeginning(c.assignment());
            List<String> values = new ArrayList<>();
            TestPolls.until(c, expected, Duration.ofSeconds(30)).forEach(r -> values.add(r.value()));
            return values;
        }
    }
}
