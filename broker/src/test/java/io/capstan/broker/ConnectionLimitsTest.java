package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one client may hold of a broker, with Kafka's settings: max.connections.per.ip and max.connections close a
 * connection beyond them at once (the others go on), connections.max.idle.ms closes a silent connection and only that,
 * and fetch.max.bytes caps an answer whatever the request asks for.
 */
class ConnectionLimitsTest {
    @TempDir
    Path dir;

    @Test
    void aConnectionBeyondThePerAddressLimitIsClosedAndTheOthersServe() throws Exception {
        try (TestBroker broker = new TestBroker(dir, Map.of("max.connections.per.ip", "2"))) {
            int port = broker.broker().port();
            try (RawKafkaConnection first = new RawKafkaConnection(port); RawKafkaConnection second = new RawKafkaConnection(port)) {
                assertServes(first);
                assertServes(second);
                try (RawKafkaConnection third = new RawKafkaConnection(port)) {
                    assertThat(third.closedByBroker()).as("the third connection from 127.0.0.1").isTrue();
                }
                assertServes(first);
                second.close();
                // the second's slot is free once the broker has seen it close
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    try (RawKafkaConnection again = new RawKafkaConnection(port)) {
                        return again.serves();
                    }
                });
            }
            assertThat(metrics(broker)).contains("capstan_connections_closed_by_broker_total{setting=\"max.connections.per.ip\"} 1.0");
        }
    }

    @Test
    void aConnectionBeyondTheBrokerWideLimitIsClosed() throws Exception {
        try (TestBroker broker = new TestBroker(dir, Map.of("max.connections", "3"))) {
            int port = broker.broker().port();
            List<RawKafkaConnection> open = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    open.add(new RawKafkaConnection(port));
                    assertServes(open.get(i));
                }
                try (RawKafkaConnection fourth = new RawKafkaConnection(port)) {
                    assertThat(fourth.closedByBroker()).isTrue();
                }
                for (RawKafkaConnection c : open) {
                    assertServes(c);
                }
            } finally {
                for (RawKafkaConnection c : open) {
                    c.close();
                }
            }
            assertThat(metrics(broker)).contains("capstan_connections_closed_by_broker_total{setting=\"max.connections\"} 1.0");
        }
    }

    @Test
    void aSilentConnectionIsClosedAfterTheIdleTimeAndABusyOneIsNot() throws Exception {
        try (TestBroker broker = new TestBroker(dir, Map.of("connections.max.idle.ms", "1000"));
             RawKafkaConnection silent = new RawKafkaConnection(broker.broker().port());
             RawKafkaConnection busy = new RawKafkaConnection(broker.broker().port())) {
            metrics(broker); // warm the HTTP client: the busy connection must not fall silent while the test reads metrics
            long start = System.nanoTime();
            // busy asks something every 100 ms for three idle periods: the pace is its activity, not synchronisation
            while (System.nanoTime() - start < 3_000_000_000L) {
                assertServes(busy);
                Thread.sleep(100);
            }
            assertServes(busy);
            assertThat(metrics(broker)).contains("capstan_connections_closed_by_broker_total{setting=\"connections.max.idle.ms\"} 1.0");
            assertThat(silent.closedByBroker()).as("the silent connection was closed").isTrue();
        }
    }

    @Test
    void fetchMaxBytesCapsAnAnswerThatAsksForEverything() throws Exception {
        try (TestBroker broker = new TestBroker(dir, Map.of("fetch.max.bytes", "2048"));
             RawKafkaConnection c = new RawKafkaConnection(broker.broker().port())) {
            IdempotentProduceTest.createTopic(c);
            String kilobyte = "x".repeat(1000);
            for (int i = 0; i < 10; i++) {
                ProduceResponseData r = c.send(ApiKeys.PRODUCE, BadInputTest.PRODUCE_V, Batches.produce("t", 0, Batches.plain(kilobyte + i)));
                assertThat(r.responses().iterator().next().partitionResponses().get(0).errorCode()).isEqualTo(Errors.NONE.code());
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> IdempotentProduceTest.logEnd(broker) == 10);
            FetchRequestData req = new FetchRequestData().setMaxWaitMs(0).setMinBytes(0).setMaxBytes(Integer.MAX_VALUE)
                    .setReplicaId(-1).setSessionEpoch(-1);
            req.topics().add(new FetchRequestData.FetchTopic().setTopic("t").setPartitions(List.of(
                    new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0).setPartitionMaxBytes(Integer.MAX_VALUE))));
            FetchResponseData r = c.send(ApiKeys.FETCH, (short) 12, req);
            MemoryRecords records = (MemoryRecords) r.responses().get(0).partitions().get(0).records();
            int batches = 0;
            for (RecordBatch ignored : records.batches()) {
                batches++;
            }
            assertThat(records.sizeInBytes()).as("bytes in the answer").isBetween(1000, 2048);
            assertThat(batches).as("one of the ten batches of ~1 KiB fits 2,048 bytes").isEqualTo(1);
            // and a consumer still reads everything, an answer at a time
            assertThat(broker.readFromStart("t", 1, 10)).hasSize(10);
        }
    }

    private static void assertServes(RawKafkaConnection c) throws IOException {
        assertThat(c.serves()).isTrue();
    }


    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static String metrics(TestBroker broker) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + broker.broker().adminPort()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    }
}
