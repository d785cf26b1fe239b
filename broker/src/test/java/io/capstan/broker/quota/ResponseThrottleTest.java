package io.capstan.broker.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataCache;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request-time quota (request_percentage) on a real metadata store: thread time is counted in percent of one thread
 * per second, every API's answer carries the delay where it has a throttle_time_ms field, the larger of the byte-rate
 * and request-time delays is the one owed, and replica fetches are never counted.
 */
class ResponseThrottleTest {
    /** 10 samples of 1 s: a rate is measured over at least 9 s. */
    private static final int SAMPLES = 10;
    private static final long SAMPLE_MS = 1_000;
    private static final long MS = 1_000_000;

    @TempDir
    Path dir;
    private LocalFileMetadataStore store;
    private MetadataCache cache;
    private ClientQuotaStore quotas;
    private final AtomicLong now = new AtomicLong(1_000_000);
    private ResponseThrottle throttle;

    @BeforeEach
    void open() {
        store = new LocalFileMetadataStore(dir, 100);
        cache = MetadataCache.open(store, Duration.ofSeconds(10));
        quotas = new ClientQuotaStore(cache);
        throttle = new ResponseThrottle(new ClientThrottles(quotas, now::get, SAMPLES, SAMPLE_MS));
    }

    @AfterEach
    void close() {
        quotas.close();
        cache.close();
        store.close();
    }

    private void quota(String clientId, String key, double value) {
        quotas.alter(new QuotaEntity(null, new QuotaEntity.Name(clientId)), Map.of(key, value));
    }

    @Test
    void requestTimeOverItsPercentageDelaysAnyAnswerThatCanSaySo() {
        quota("busy", ClientThrottles.REQUEST_PERCENTAGE, 1.0); // 1% of a thread: 90 ms over the 9 s window
        MetadataResponseData first = new MetadataResponseData();
        assertThat(throttle.apply(ApiKeys.METADATA, (short) 12, "u", "busy", 100, 90 * MS, new MetadataRequestData(), first))
                .as("exactly at the quota").isZero();
        assertThat(first.throttleTimeMs()).isZero();

        MetadataResponseData second = new MetadataResponseData();
        long ms = throttle.apply(ApiKeys.METADATA, (short) 12, "u", "busy", 100, 90 * MS, new MetadataRequestData(), second);
        // 180 ms used of 90 allowed: (2% - 1%) / 1% of the window (9 s), at most one sample, as Kafka bounds it
        assertThat(ms).isEqualTo(SAMPLE_MS);
        assertThat(second.throttleTimeMs()).isEqualTo((int) SAMPLE_MS);

        ApiVersionsResponseData versions = new ApiVersionsResponseData();
        assertThat(throttle.apply(ApiKeys.API_VERSIONS, (short) 3, "u", "busy", 100, 1 * MS, null, versions)).as("still owed").isPositive();
        assertThat(versions.throttleTimeMs()).as("any API's answer with the field carries it").isPositive();

        SaslHandshakeResponseData noField = new SaslHandshakeResponseData();
        assertThat(throttle.apply(ApiKeys.SASL_HANDSHAKE, (short) 1, "u", "busy", 100, 1 * MS, null, noField))
                .as("an answer without the field: the connection still waits").isPositive();
    }

    @Test
    void aClientWithoutTheQuotaAndReplicaFetchesAreNotCounted() {
        quota("busy", ClientThrottles.REQUEST_PERCENTAGE, 0.001);
        MetadataResponseData other = new MetadataResponseData();
        assertThat(throttle.apply(ApiKeys.METADATA, (short) 12, "u", "idle", 100, 10_000 * MS, new MetadataRequestData(), other)).isZero();
        assertThat(other.throttleTimeMs()).isZero();

        FetchRequestData replica = new FetchRequestData().setReplicaState(new FetchRequestData.ReplicaState().setReplicaId(2));
        FetchResponseData replicaAnswer = new FetchResponseData();
        assertThat(throttle.apply(ApiKeys.FETCH, (short) 15, "u", "busy", 100, 10_000 * MS, replica, replicaAnswer)).isZero();
        assertThat(replicaAnswer.throttleTimeMs()).isZero();
    }

    @Test
    void theLargerOfTheByteRateAndRequestTimeDelaysIsOwed() {
        quota("both", ClientThrottles.REQUEST_PERCENTAGE, 50.0);
        quota("both", ClientThrottles.PRODUCER_BYTE_RATE, 1_000.0); // 9,000 bytes over the window
        ProduceResponseData answer = new ProduceResponseData();
        long ms = throttle.apply(ApiKeys.PRODUCE, (short) 9, "u", "both", 18_000, 1 * MS, new ProduceRequestData(), answer);
        assertThat(ms).as("twice the byte rate: one window (9 s)").isEqualTo(9_000);
        assertThat(answer.throttleTimeMs()).isEqualTo(9_000);

        quota("both", ClientThrottles.REQUEST_PERCENTAGE, 0.001);
        now.addAndGet(SAMPLES * SAMPLE_MS); // the bytes have aged out of the window
        ProduceResponseData later = new ProduceResponseData();
        long requestMs = throttle.apply(ApiKeys.PRODUCE, (short) 9, "u", "both", 10, 100 * MS, new ProduceRequestData(), later);
        assertThat(requestMs).as("request time far over: at most one sample").isEqualTo(SAMPLE_MS);
        assertThat(later.throttleTimeMs()).isEqualTo((int) SAMPLE_MS);
    }
}
