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
        assertThat(some.includes(1, 0)).isFalse();
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
        assertThat(leader.exceeded()).isFalse();
        leader.moved(9_000); // the window is at least 10 s: 900 B/s
        assertThat(leader.exceeded()).isFalse();
        leader.moved(2_000); // 1,100 B/s
        assertThat(leader.exceeded()).isTrue();
        now.addAndGet(12_000); // every sample rolled out of the 11 s window
        assertThat(leader.exceeded()).isFalse();

        ReplicationQuotas.Side follower = quotas.follower();
        follower.moved(1L << 40);
        assertThat(follower.exceeded()).as("the default rate is unlimited").isFalse();
    }

    @Test
    void theRateIsReadOnEachUseSoADynamicChangeAppliesAtOnce() {
        AtomicLong rate = new AtomicLong(Long.MAX_VALUE);
        AtomicLong now = new AtomicLong(0);
        ReplicationQuotas.Side side = new ReplicationQuotas(rate::get, rate::get, now::get).leader();
        side.moved(50_000);
        assertThat(side.exceeded()).isFalse();
        rate.set(1_000);
        assertThat(side.exceeded()).isTrue();
    }
}
