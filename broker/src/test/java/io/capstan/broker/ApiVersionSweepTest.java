package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every API at every version this broker advertises gets a response the client can decode. Older clients
 * (librdkafka, kafka-clients 3.x) speak the older versions, where a field set out of range breaks encoding.
 */
class ApiVersionSweepTest {
    @TempDir
    Path dir;

    @Test
    void everyAdvertisedVersionAnswers() throws IOException {
        try (TestBroker broker = new TestBroker(dir); RawKafkaConnection c = new RawKafkaConnection(broker.broker().port())) {
            IdempotentProduceTest.createTopic(c);
            assertThat(IdempotentProduceTest.produce(c, Batches.plain("a", "b")).baseOffset()).isZero();
            Uuid topicId = broker.broker().logs().catalog().topic("t").id();
            ApiVersionsResponseData versions = c.send(ApiKeys.API_VERSIONS, (short) 3, new ApiVersionsRequestData());
            int checked = 0;
            for (ApiVersionsResponseData.ApiVersion v : versions.apiKeys()) {
                ApiKeys api = ApiKeys.forId(v.apiKey());
                for (short version = v.minVersion(); version <= v.maxVersion(); version++) {
                    ApiMessage response = c.send(api, version, SampleRequests.request(api, version, topicId));
                    assertThat(response).as(api + " v" + version).isNotNull();
                    checked++;
                }
            }
            assertThat(checked).isGreaterThan(50);
        }
    }
}
