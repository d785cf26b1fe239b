package io.capstan.operator.rebalance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.capstan.cluster.planner.AssignmentPlanner.ShardId;
import io.capstan.cluster.planner.LoadRebalancer.ShardLoad;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrafficSampleTest {
    private static final String BROKER_0 = """
            # HELP capstan_shard_produced_bytes_total Bytes producers appended to each shard this broker leads
            # TYPE capstan_shard_produced_bytes_total counter
            capstan_shard_produced_bytes_total{partition="0",topic="orders"} 1000.0
            capstan_shard_produced_bytes_total{partition="1",topic="orders"} 0.0
            capstan_shard_produced_bytes_total{partition="0",topic="we \\"quoted\\""} 5.0E3
            # TYPE capstan_shard_consumed_bytes_total counter
            capstan_shard_consumed_bytes_total{partition="0",topic="orders"} 4000.0
            capstan_shard_consumed_bytes_total{partition="1",topic="orders"} 0.0
            capstan_shard_size_bytes{partition="0",topic="orders"} 99999.0
            capstan_produce_requests_total 12.0
            """;

    @Test
    void readsBothCountersOfEveryShardAndNothingElse() {
        Map<ShardId, TrafficSample.Counted> counted = TrafficSample.parse(BROKER_0);
        assertThat(counted).containsOnlyKeys(new ShardId("orders", 0), new ShardId("orders", 1), new ShardId("we \"quoted\"", 0));
        assertThat(counted.get(new ShardId("orders", 0))).isEqualTo(new TrafficSample.Counted(1000, 4000));
        assertThat(counted.get(new ShardId("we \"quoted\"", 0))).isEqualTo(new TrafficSample.Counted(5000, 0));
    }

    @Test
    void ratesAddUpEveryBrokersIncreaseAndTakeARestartedCountAsAllNew() {
        ShardId a = new ShardId("orders", 0);
        ShardId b = new ShardId("orders", 1);
        TrafficSample first = new TrafficSample(0, Map.of(
                0, Map.of(a, new TrafficSample.Counted(1000, 4000), b, new TrafficSample.Counted(0, 0)),
                1, Map.of(a, new TrafficSample.Counted(0, 0), b, new TrafficSample.Counted(7000, 100))));
        // 10 s later: leadership of a moved from 0 to 1 midway; broker 1 restarted (its count of b began again)
        TrafficSample later = new TrafficSample(10_000_000_000L, Map.of(
                0, Map.of(a, new TrafficSample.Counted(1500, 6000), b, new TrafficSample.Counted(0, 0)),
                1, Map.of(a, new TrafficSample.Counted(500, 2000), b, new TrafficSample.Counted(300, 50))));
        Map<ShardId, ShardLoad> rates = later.ratesSince(first);
        assertThat(rates.get(a).bytesIn()).isCloseTo(100, within(1e-9));
        assertThat(rates.get(a).bytesOut()).isCloseTo(400, within(1e-9));
        assertThat(rates.get(b).bytesIn()).as("a restarted count is all new").isCloseTo(30, within(1e-9));
        assertThat(rates.get(b).bytesOut()).isCloseTo(5, within(1e-9));
    }

    @Test
    void aShardOrBrokerNewSinceTheFirstSampleCountsFromZero() {
        ShardId a = new ShardId("new", 0);
        TrafficSample first = new TrafficSample(0, Map.of());
        TrafficSample later = new TrafficSample(2_000_000_000L, Map.of(2, Map.of(a, new TrafficSample.Counted(200, 0))));
        assertThat(later.ratesSince(first).get(a)).isEqualTo(new ShardLoad(100, 0));
    }

    @Test
    void samplesOutOfOrderAreRefused() {
        TrafficSample s = new TrafficSample(5, Map.of());
        assertThatThrownBy(() -> s.ratesSince(s)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("earlier");
    }
}
