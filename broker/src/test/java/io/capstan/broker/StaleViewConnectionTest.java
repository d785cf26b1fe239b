package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.broker.kafka.ApiRegistry;
import io.capstan.broker.kafka.ApiVersionsHandler;
import io.capstan.broker.log.Backpressure;
import io.capstan.broker.net.ConnectionSteering;
import io.capstan.broker.net.KafkaServer;
import io.capstan.broker.net.ListenerSecurity;
import io.capstan.broker.net.NetMetrics;
import io.capstan.broker.quota.ClientQuotaStore;
import io.capstan.broker.quota.ClientThrottles;
import io.capstan.broker.quota.ResponseThrottle;
import io.capstan.broker.security.Authorizer;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataCache;
import io.capstan.config.BrokerConfig;
import io.capstan.config.Listener;
import io.capstan.config.SecurityProtocol;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker whose lease has run out answers, then closes the connection, so that the client's next metadata request
 * goes to a broker that can hear the store (StorePartitionTest shows the fault this prevents, on real processes).
 * Here: the Kafka listener over real sockets, with the lease's state switched by the test.
 */
class StaleViewConnectionTest {
    private static final int CONTROLLER_MARKER = 7;

    @TempDir
    Path dir;

    private final AtomicBoolean leaseLapsed = new AtomicBoolean();
    private MetadataCache cache;
    private ClientQuotaStore quotas;
    private KafkaServer server;

    @BeforeEach
    void start() {
        cache = MetadataCache.open(new LocalFileMetadataStore(dir, 100), Duration.ofSeconds(10));
        quotas = new ClientQuotaStore(cache);
        ApiRegistry registry = new ApiRegistry();
        registry.add(ApiKeys.API_VERSIONS, new ApiVersionsHandler(registry))
                .add(ApiKeys.METADATA, (context, request) -> CompletableFuture.completedFuture(
                        new MetadataResponseData().setControllerId(CONTROLLER_MARKER)));
        Listener plaintext = new Listener("PLAINTEXT", "127.0.0.1", 0, SecurityProtocol.PLAINTEXT, "127.0.0.1", 0);
        server = new KafkaServer(List.of(new ListenerSecurity(plaintext, null, null, null, null, null)), 1 << 20, registry,
                NetMetrics.NONE, Backpressure.NONE, Authorizer.ALLOW_ALL, () -> BrokerConfig.defaults().limits(),
                new ResponseThrottle(new ClientThrottles(quotas, System::currentTimeMillis, 11, 1_000)),
                new ConnectionSteering(leaseLapsed::get), io.capstan.broker.trace.RequestTracer.NONE);
    }

    @AfterEach
    void stop() {
        server.close();
        quotas.close();
        cache.close();
    }

    @Test
    void withItsLeaseHeldTheBrokerKeepsTheConnectionForTheNextRequest() throws Exception {
        try (RawKafkaConnection connection = new RawKafkaConnection(server.port())) {
            assertThat(metadata(connection).controllerId()).isEqualTo(CONTROLLER_MARKER);
            assertThat(metadata(connection).controllerId()).as("a second request on the same connection").isEqualTo(CONTROLLER_MARKER);
        }
    }

    @Test
    void withItsLeaseRunOutTheBrokerAnswersMetadataThenClosesTheConnection() throws Exception {
        try (RawKafkaConnection connection = new RawKafkaConnection(server.port())) {
            assertThat(metadata(connection).controllerId()).isEqualTo(CONTROLLER_MARKER);
            leaseLapsed.set(true);
            ApiVersionsResponseData versions = connection.send(ApiKeys.API_VERSIONS, (short) 3,
                    new ApiVersionsRequestData().setClientSoftwareName("raw-test").setClientSoftwareVersion("1"));
            assertThat(versions.errorCode()).as("connection set-up is answered and kept").isEqualTo(Errors.NONE.code());
            assertThat(metadata(connection).controllerId()).as("answered in full before the close").isEqualTo(CONTROLLER_MARKER);
            assertThat(connection.closedByBroker()).as("closed after the answer").isTrue();
        }
        leaseLapsed.set(false);
        try (RawKafkaConnection renewed = new RawKafkaConnection(server.port())) {
            metadata(renewed);
            assertThat(metadata(renewed).controllerId()).as("once the lease is renewed, connections are kept again").isEqualTo(CONTROLLER_MARKER);
        }
    }

    private static MetadataResponseData metadata(RawKafkaConnection connection) throws java.io.IOException {
        return connection.send(ApiKeys.METADATA, (short) 12, new MetadataRequestData().setTopics(null));
    }
}
