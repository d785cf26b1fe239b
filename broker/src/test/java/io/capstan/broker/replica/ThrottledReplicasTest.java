package io.capstan.broker.replica;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Kafka's throttled-replica lists and the windowed rate that decides when a throttled replica waits. */
class ThrottledReplicasTest {
    @Test
    void listsNameReplicasAsPartitionAndBrokerOrAll() {
        ThrottledReplicas some = ThrottledReplicas.parse("0:1, 0:2,3:1");
        assertThat(some.includes(0, 1)).isTrue();
        assertThat(some.includes(0, 2)).isTrue();
        assertThat(some.includes(3, 1)).isTrue();
        assertThat(some.includes(1, 0)).isFalse();
        assertThat(some.includes(0, 3)).isFalse();
        assertThat(some.includes(3, 2)).isFalse();
        assertThat(ThrottledReplicas.parse("*").includes(7, 9)).isTrue();
        assertThat(ThrottledReplicas.parse("").includes(0, 0)).isFalse();
        assertThat(ThrottledReplicas.parse(null).includes(0, 0)).isFalse();
    }

    @Test
    void anInvalidListIsRefusedWithWhatIsExpected() {
        assertThat(ThrottledReplicas.problem("leader.replication.throttled.replicas", "0:1,0:2")).isNull();
        assertThat(ThrottledReplicas.problem("leader.replication.throttled.replicas", "0-1"))
                .contains("leader.replication.throttled.replicas must be empty, * or partition:broker pairs").contains("'0-1'");
        assertThat(ThrottledReplicas.problem("follower.replication.throttled.replicas", "a:1")).contains("two numbers");
        assertThat(ThrottledReplicas.problem("follower.replication.throttled.replicas", "-1:1")).contains("negative");
        assertThat(io.capstan.broker.kafka.TopicConfigs.problem("leader.replication.throttled.replicas", "0:x"))
                .as("refused when a topic is created or altered").isNotNull();
    }

    @Test
    void aSideIsOverItsRateOnceTheWindowHoldsMoreThanRateTimesItsLengthAndRecovers() {
        AtomicLong now = new AtomicLong(1_000_000);
        ReplicationQuotas quotas = new ReplicationQuotas(() -> 1_000, () -> Long.MAX_VALUE, now::get);
        ReplicationQuotas.Side leader = quotas.leader();
        assertThat(leader.allowance()).as("an empty window of at least 10 s at 1,000 B/s").isEqualTo(10_000);
        leader.moved(9_000); // the window is at least 10 s: 900 B/s
        assertThat(leader.allowance()).isEqualTo(1_000);
        leader.moved(2_000); // 1,100 B/s
        assertThat(leader.allowance()).as("over the rate: throttled replicas wait").isZero();
        now.addAndGet(12_000); // every sample rolled out of the 11 s window
        assertThat(leader.allowance()).isPositive();

        ReplicationQuotas.Side follower = quotas.follower();
        follower.moved(1L << 40);
        assertThat(follower.allowance()).as("the default rate is unlimited").isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void theRateIsReadOnEachUseSoADynamicChangeAppliesAtOnce() {
        AtomicLong rate = new AtomicLong(Long.MAX_VALUE);
        AtomicLong now = new AtomicLong(0);
        ReplicationQuotas.Side side = new ReplicationQuotas(rate::get, rate::get, now::get).leader();
        side.moved(50_000);
        assertThat(side.allowance()).isPositive();
        rate.set(1_000);
        assertThat(side.allowance()).isZero();
    }

    @Test
    void eachSideReadsItsOwnTopicList() {
        ReplicationQuotas quotas = new ReplicationQuotas(() -> 1, () -> 1, () -> 0);
        io.capstan.broker.log.TopicMeta topic = new io.capstan.broker.log.TopicMeta("t", org.apache.kafka.common.Uuid.randomUuid(), java.util.List.of(0),
                java.util.Map.of("leader.replication.throttled.replicas", "0:1", "follower.replication.throttled.replicas", "0:2"));
        assertThat(quotas.leader().names(topic, 0, 1)).isTrue();
        assertThat(quotas.leader().names(topic, 0, 2)).isFalse();
        assertThat(quotas.follower().names(topic, 0, 2)).isTrue();
        assertThat(quotas.follower().names(topic, 0, 1)).isFalse();
        assertThat(quotas.leader().names(null, 0, 1)).as("a topic gone meanwhile").isFalse();
    }
}
