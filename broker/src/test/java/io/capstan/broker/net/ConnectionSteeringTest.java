package io.capstan.broker.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.apache.kafka.common.protocol.ApiKeys;
import org.junit.jupiter.api.Test;

class ConnectionSteeringTest {
    private static final Set<ApiKeys> SET_UP = Set.of(ApiKeys.API_VERSIONS, ApiKeys.SASL_HANDSHAKE, ApiKeys.SASL_AUTHENTICATE);

    @Test
    void withTheLeaseHeldNoResponseEndsItsConnection() {
        ConnectionSteering steering = new ConnectionSteering(() -> false);
        for (ApiKeys api : ApiKeys.values()) {
            assertThat(steering.closeAfter(api)).as(api.name).isFalse();
        }
    }

    @Test
    void withTheLeaseRunOutEveryResponseButConnectionSetUpEndsItsConnection() {
        ConnectionSteering steering = new ConnectionSteering(() -> true);
        for (ApiKeys api : ApiKeys.values()) {
            assertThat(steering.closeAfter(api)).as(api.name).isEqualTo(!SET_UP.contains(api));
        }
    }

    @Test
    void theLeaseIsAskedAtEachResponseSoARenewalIsFollowed() {
        boolean[] lapsed = {true};
        ConnectionSteering steering = new ConnectionSteering(() -> lapsed[0]);
        assertThat(steering.closeAfter(ApiKeys.METADATA)).isTrue();
        lapsed[0] = false;
        assertThat(steering.closeAfter(ApiKeys.METADATA)).isFalse();
        assertThat(ConnectionSteering.NEVER.closeAfter(ApiKeys.PRODUCE)).isFalse();
    }
}
