package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.broker.group.modern.ConsumerGroupView;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Consumer-protocol members are kept in the offsets shard: through a broker restart (its coordinator starting over from
 * its log) and through the offsets shard's compaction, a member goes on at its epoch and a member that left stays gone.
 */
class ConsumerGroupPersistenceTest {
    @TempDir
    Path dir;

    @Test
    void membersSurviveCompactionAndARestartAndCarryOnAtTheirEpochs() throws Exception {
        String stays = Uuid.randomUuid().toString();
        String leaves = Uuid.randomUuid().toString();
        ConsumerGroupView before;
        try (TestBroker broker = new TestBroker(dir); RawKafkaConnection c = new RawKafkaConnection(broker.broker().port())) {
            IdempotentProduceTest.createTopic(c);
            ConsumerGroupHeartbeatResponseData first = join(c, stays);
            ConsumerGroupHeartbeatResponseData second = join(c, leaves);
            assertThat(first.errorCode()).isZero();
            assertThat(second.errorCode()).isZero();
            ConsumerGroupHeartbeatResponseData left = c.send(ApiKeys.CONSUMER_GROUP_HEARTBEAT, (short) 1,
                    new ConsumerGroupHeartbeatRequestData().setGroupId("kept").setMemberId(leaves).setMemberEpoch(-1));
            assertThat(left.errorCode()).isZero();
            // the member that stays learns the group moved on and takes the partition
            ConsumerGroupHeartbeatResponseData again = beat(c, stays, first.memberEpoch(), List.of());
            assertThat(again.errorCode()).isZero();
            assertThat(broker.broker().groups().compactOffsets()).as("records rewritten").isPositive();
            before = broker.broker().groups().describeConsumerGroup("kept");
            assertThat(before.members()).extracting(ConsumerGroupView.Member::memberId).containsExactly(stays);
        }
        try (TestBroker broker = new TestBroker(dir); RawKafkaConnection c = new RawKafkaConnection(broker.broker().port())) {
            ConsumerGroupView after = broker.broker().groups().describeConsumerGroup("kept");
            assertThat(after).as("resumed from the offsets shard").isNotNull();
            assertThat(after.members()).extracting(ConsumerGroupView.Member::memberId).containsExactly(stays);
            ConsumerGroupView.Member m = after.members().get(0);
            ConsumerGroupView.Member was = before.members().get(0);
            assertThat(m.memberEpoch()).isEqualTo(was.memberEpoch());
            assertThat(m.assigned()).isEqualTo(was.assigned());
            assertThat(after.groupEpoch()).isGreaterThan(before.groupEpoch());

            ConsumerGroupHeartbeatResponseData carriesOn = beat(c, stays, m.memberEpoch(), null);
            assertThat(Errors.forCode(carriesOn.errorCode())).as("no rejoin needed").isEqualTo(Errors.NONE);
            assertThat(carriesOn.memberEpoch()).isEqualTo(after.groupEpoch());
            ConsumerGroupHeartbeatResponseData gone = beat(c, leaves, 2, null);
            assertThat(Errors.forCode(gone.errorCode())).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        }
    }

    private static ConsumerGroupHeartbeatResponseData join(RawKafkaConnection c, String member) throws IOException {
        return c.send(ApiKeys.CONSUMER_GROUP_HEARTBEAT, (short) 1, new ConsumerGroupHeartbeatRequestData().setGroupId("kept")
                .setMemberId(member).setMemberEpoch(0).setRebalanceTimeoutMs(30_000).setSubscribedTopicNames(List.of("t"))
                .setTopicPartitions(List.of()));
    }

    private static ConsumerGroupHeartbeatResponseData beat(RawKafkaConnection c, String member, int epoch,
                                                           List<ConsumerGroupHeartbeatRequestData.TopicPartitions> owned) throws IOException {
        return c.send(ApiKeys.CONSUMER_GROUP_HEARTBEAT, (short) 1, new ConsumerGroupHeartbeatRequestData().setGroupId("kept")
                .setMemberId(member).setMemberEpoch(epoch).setTopicPartitions(owned));
    }
}
