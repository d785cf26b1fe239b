package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A long-poll fetch leaves the purgatory when it ends: answered because data came, or abandoned because its connection
 * closed (what is asserted is the parked count; that its timer is cancelled too is not observable here). The fuzzer's long run found 174,372 parked fetches (each with a timer) left behind by mutants
 * that asked to wait up to 24 days on connections it had long closed; memory grew and every fetch slowed.
 */
class LongPollTest {
    @TempDir
    Path dir;

    @Test
    void aParkedFetchIsReleasedWhenItsConnectionClosesAndWhenDataWakesIt() throws Exception {
        try (TestBroker broker = new TestBroker(dir); Admin admin = Admin.create(broker.clientProps())) {
            admin.createTopics(List.of(new NewTopic("quiet", 1, (short) 1))).all().get();
            short version = ApiKeys.FETCH.latestVersion();
            try (RawKafkaConnection raw = new RawKafkaConnection(broker.broker().port())) {
                raw.sendRaw(RawKafkaConnection.frameBody(ApiKeys.FETCH, version, 1, waitForever(broker, version)));
                await().atMost(Duration.ofSeconds(30)).until(() -> broker.broker().parkedFetches() == 1);
            }
            await("released once its connection closed").atMost(Duration.ofSeconds(30)).until(() -> broker.broker().parkedFetches() == 0);

            try (RawKafkaConnection raw = new RawKafkaConnection(broker.broker().port())) {
                FetchRequestData oneByte = waitForever(broker, version).setMinBytes(1);
                raw.sendRaw(RawKafkaConnection.frameBody(ApiKeys.FETCH, version, 7, oneByte));
                await().atMost(Duration.ofSeconds(30)).until(() -> broker.broker().parkedFetches() == 1);
                try (KafkaProducer<String, String> producer = new KafkaProducer<>(broker.clientProps(), new StringSerializer(), new StringSerializer())) {
                    producer.send(new ProducerRecord<>("quiet", "wake")).get();
                }
                FetchResponseData answer = (FetchResponseData) raw.receive(ApiKeys.FETCH, version, 7);
                assertThat(answer.responses().get(0).partitions().get(0).records().sizeInBytes()).isPositive();
                assertThat(broker.broker().parkedFetches()).as("answered: nothing left parked").isZero();
            }
        }
    }

    /** A fetch of quiet-0 that asks to wait as long as the protocol allows for more bytes than will ever come. */
    private static FetchRequestData waitForever(TestBroker broker, short version) {
        FetchRequestData.FetchTopic topic = new FetchRequestData.FetchTopic()
                .setTopicId(broker.broker().logs().catalog().topic("quiet").id()).setTopic("quiet");
        topic.partitions().add(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0).setPartitionMaxBytes(1 << 20));
        return new FetchRequestData().setReplicaId(-1).setMaxWaitMs(Integer.MAX_VALUE).setMinBytes(Integer.MAX_VALUE)
                .setMaxBytes(1 << 20).setTopics(List.of(topic));
    }
}
