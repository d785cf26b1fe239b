package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The group protocol's error answers, over the wire: stale generations, unknown members, bad settings. */
class GroupBadInputTest {
    static final short JOIN_V = 9;

    @TempDir
    Path dir;

    @Test
    void staleAndUnknownMembersAndBadSettingsGetTheirErrorCodes() throws IOException {
        try (TestBroker broker = new TestBroker(dir); RawKafkaConnection c = new RawKafkaConnection(broker.broker().port())) {
            IdempotentProduceTest.createTopic(c);
            // KIP-394: the first join is answered with a member id to come back with
            JoinGroupResponseData first = c.send(ApiKeys.JOIN_GROUP, JOIN_V, join("g", "", 10_000, "range"));
            assertThat(first.errorCode()).isEqualTo(Errors.MEMBER_ID_REQUIRED.code());
            String memberId = first.memberId();
            JoinGroupResponseData joined = c.send(ApiKeys.JOIN_GROUP, JOIN_V, join("g", memberId, 10_000, "range"));
            assertThat(joined.errorCode()).isZero();
            assertThat(joined.leader()).isEqualTo(memberId);
            int generation = joined.generationId();
            SyncGroupResponseData synced = c.send(ApiKeys.SYNC_GROUP, (short) 5, new SyncGroupRequestData().setGroupId("g")
                    .setGenerationId(generation).setMemberId(memberId).setProtocolType("consumer").setProtocolName("range")
                    .setAssignments(List.of(new SyncGroupRequestData.SyncGroupRequestAssignment().setMemberId(memberId).setAssignment(new byte[] {7}))));
            assertThat(synced.errorCode()).isZero();
            assertThat(synced.assignment()).containsExactly(7);

            assertThat(heartbeat(c, "g", memberId, generation)).isEqualTo(Errors.NONE);
            assertThat(heartbeat(c, "g", memberId, generation - 1)).isEqualTo(Errors.ILLEGAL_GENERATION);
            assertThat(heartbeat(c, "g", "nobody", generation)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
            assertThat(heartbeat(c, "no-such-group", memberId, generation)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);

            assertThat(commit(c, "g", memberId, generation - 1, "")).isEqualTo(Errors.ILLEGAL_GENERATION);
            assertThat(commit(c, "g", "nobody", generation, "")).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
            assertThat(commit(c, "g", memberId, generation, "x".repeat(5000))).isEqualTo(Errors.OFFSET_METADATA_TOO_LARGE);
            assertThat(commit(c, "g", memberId, generation, "meta")).isEqualTo(Errors.NONE);
            assertThat(broker.broker().groups().committed("g").values()).extracting(o -> o.metadata()).containsExactly("meta");
            // an admin-style commit (no member, no generation) is refused while the group has members
            assertThat(commit(c, "g", "", -1, "")).isEqualTo(Errors.UNKNOWN_MEMBER_ID);

            JoinGroupResponseData badTimeout = c.send(ApiKeys.JOIN_GROUP, JOIN_V, join("g2", "", 10, "range"));
            assertThat(badTimeout.errorCode()).isEqualTo(Errors.INVALID_SESSION_TIMEOUT.code());
            JoinGroupResponseData otherProtocol = c.send(ApiKeys.JOIN_GROUP, JOIN_V, join("g", "", 10_000, "roundrobin-only"));
            assertThat(otherProtocol.errorCode()).isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL.code());
            JoinGroupResponseData noGroup = c.send(ApiKeys.JOIN_GROUP, JOIN_V, join("", "", 10_000, "range"));
            assertThat(noGroup.errorCode()).isEqualTo(Errors.INVALID_GROUP_ID.code());
        }
    }

    @Test
    void malformedConsumerGroupHeartbeatsGetInvalidRequestNamingTheField() throws IOException {
        try (TestBroker broker = new TestBroker(dir); RawKafkaConnection c = new RawKafkaConnection(broker.broker().port())) {
            IdempotentProduceTest.createTopic(c);
            String member = org.apache.kafka.common.Uuid.randomUuid().toString();
            java.util.function.Supplier<ConsumerGroupHeartbeatRequestData> valid = () -> new ConsumerGroupHeartbeatRequestData()
                    .setGroupId("cg").setMemberId(member).setMemberEpoch(0).setRebalanceTimeoutMs(30_000)
                    .setSubscribedTopicNames(List.of("t")).setTopicPartitions(List.of());
            record Case(ConsumerGroupHeartbeatRequestData request, String message) {}
            List<Case> cases = List.of(
                    new Case(valid.get().setGroupId(""), "GroupId can't be empty."),
                    new Case(valid.get().setMemberId(""), "MemberId can't be empty."),
                    new Case(valid.get().setInstanceId(""), "InstanceId can't be empty."),
                    new Case(valid.get().setRackId(""), "RackId can't be empty."),
                    new Case(valid.get().setRebalanceTimeoutMs(-1), "RebalanceTimeoutMs must be provided in first request."),
                    new Case(valid.get().setTopicPartitions(null), "TopicPartitions must be empty when (re-)joining."),
                    new Case(valid.get().setSubscribedTopicNames(null), "SubscribedTopicNames or SubscribedTopicRegex must be set in first request."),
                    new Case(valid.get().setMemberEpoch(-2), "InstanceId can't be null."),
                    new Case(valid.get().setMemberEpoch(-3), "MemberEpoch is invalid."));
            for (Case k : cases) {
                ConsumerGroupHeartbeatResponseData r = c.send(ApiKeys.CONSUMER_GROUP_HEARTBEAT, (short) 1, k.request());
                assertThat(Errors.forCode(r.errorCode())).as(k.message()).isEqualTo(Errors.INVALID_REQUEST);
                assertThat(r.errorMessage()).isEqualTo(k.message());
            }
            ConsumerGroupHeartbeatResponseData badAssignor = c.send(ApiKeys.CONSUMER_GROUP_HEARTBEAT, (short) 1,
                    valid.get().setServerAssignor("sticky"));
            assertThat(Errors.forCode(badAssignor.errorCode())).isEqualTo(Errors.UNSUPPORTED_ASSIGNOR);
            assertThat(badAssignor.errorMessage()).contains("uniform", "range");
            ConsumerGroupHeartbeatResponseData badRegex = c.send(ApiKeys.CONSUMER_GROUP_HEARTBEAT, (short) 1,
                    valid.get().setSubscribedTopicNames(null).setSubscribedTopicRegex("t["));
            assertThat(Errors.forCode(badRegex.errorCode())).isEqualTo(Errors.INVALID_REGULAR_EXPRESSION);
            assertThat(broker.broker().groups().describeConsumerGroup("cg")).as("nothing joined").satisfiesAnyOf(
                    g -> assertThat(g).isNull(), g -> assertThat(g.members()).isEmpty());

            ConsumerGroupHeartbeatResponseData joined = c.send(ApiKeys.CONSUMER_GROUP_HEARTBEAT, (short) 1, valid.get());
            assertThat(joined.errorCode()).isZero();
            assertThat(joined.memberEpoch()).isEqualTo(1);
            assertThat(joined.assignment().topicPartitions()).hasSize(1);
            ConsumerGroupHeartbeatResponseData ahead = c.send(ApiKeys.CONSUMER_GROUP_HEARTBEAT, (short) 1,
                    new ConsumerGroupHeartbeatRequestData().setGroupId("cg").setMemberId(member).setMemberEpoch(5));
            assertThat(Errors.forCode(ahead.errorCode())).isEqualTo(Errors.FENCED_MEMBER_EPOCH);
            ConsumerGroupHeartbeatResponseData stranger = c.send(ApiKeys.CONSUMER_GROUP_HEARTBEAT, (short) 1,
                    new ConsumerGroupHeartbeatRequestData().setGroupId("cg").setMemberId("stranger").setMemberEpoch(1));
            assertThat(Errors.forCode(stranger.errorCode())).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
            // v0: the coordinator makes the member id up
            ConsumerGroupHeartbeatResponseData v0 = c.send(ApiKeys.CONSUMER_GROUP_HEARTBEAT, (short) 0, valid.get().setMemberId(""));
            assertThat(v0.errorCode()).isZero();
            assertThat(v0.memberId()).isNotEmpty().isNotEqualTo(member);
        }
    }

    private static JoinGroupRequestData join(String group, String memberId, int sessionTimeout, String protocol) {
        JoinGroupRequestData.JoinGroupRequestProtocolCollection protocols = new JoinGroupRequestData.JoinGroupRequestProtocolCollection();
        protocols.add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName(protocol).setMetadata(new byte[] {1}));
        return new JoinGroupRequestData().setGroupId(group).setMemberId(memberId).setSessionTimeoutMs(sessionTimeout)
                .setRebalanceTimeoutMs(10_000).setProtocolType("consumer").setProtocols(protocols);
    }

    private static Errors heartbeat(RawKafkaConnection c, String group, String member, int generation) throws IOException {
        HeartbeatResponseData r = c.send(ApiKeys.HEARTBEAT, (short) 4,
                new HeartbeatRequestData().setGroupId(group).setMemberId(member).setGenerationId(generation));
        return Errors.forCode(r.errorCode());
    }

    private static Errors commit(RawKafkaConnection c, String group, String member, int generation, String metadata) throws IOException {
        OffsetCommitRequestData.OffsetCommitRequestTopic t = new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("t");
        t.partitions().add(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(0)
                .setCommittedMetadata(metadata));
        OffsetCommitResponseData r = c.send(ApiKeys.OFFSET_COMMIT, (short) 9, new OffsetCommitRequestData().setGroupId(group)
                .setMemberId(member).setGenerationIdOrMemberEpoch(generation).setTopics(List.of(t)));
        return Errors.forCode(r.topics().get(0).partitions().get(0).errorCode());
    }
}
