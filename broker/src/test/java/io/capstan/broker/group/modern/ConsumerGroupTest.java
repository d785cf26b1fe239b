package io.capstan.broker.group.modern;

import static io.capstan.broker.group.modern.GroupFixture.partitions;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

/** The consumer-protocol group's decisions, step by step, on a clock the test moves. */
class ConsumerGroupTest {
    final GroupFixture f = new GroupFixture();

    @Test
    void aPartitionReachesItsNewOwnerOnlyAfterTheOldOwnerRevokedIt() {
        Uuid t = f.topic("t", 4);
        Heartbeat.Result a = f.join("a", "t");
        assertThat(a.error()).isEqualTo(Errors.NONE);
        assertThat(a.memberEpoch()).isEqualTo(1);
        assertThat(a.assignment()).isEqualTo(partitions(t, 0, 1, 2, 3));
        assertThat(f.group.state()).isEqualTo(ConsumerGroup.State.STABLE);

        Heartbeat.Result b = f.join("b", "t");
        assertThat(b.memberEpoch()).isEqualTo(2);
        assertThat(b.assignment()).as("a still holds them").isEqualTo(Assignment.EMPTY);
        assertThat(f.group.state()).isEqualTo(ConsumerGroup.State.RECONCILING);
        Assignment bTarget = f.member("b").target();
        assertThat(bTarget.size()).isEqualTo(2);
        Assignment aKeeps = partitions(t, 0, 1, 2, 3).minus(bTarget);

        Heartbeat.Result aAsked = f.beat("a", 1, partitions(t, 0, 1, 2, 3));
        assertThat(aAsked.memberEpoch()).as("held back until it revokes").isEqualTo(1);
        assertThat(aAsked.assignment()).isEqualTo(aKeeps);
        assertThat(f.beat("b", 2, Assignment.EMPTY).assignment()).as("nothing released yet").isNull();
        assertThat(f.beat("a", 1, partitions(t, 0, 1, 2, 3)).memberEpoch()).as("still owns them").isEqualTo(1);

        Heartbeat.Result aRevoked = f.beat("a", 1, aKeeps);
        assertThat(aRevoked.memberEpoch()).isEqualTo(2);
        Heartbeat.Result bGets = f.beat("b", 2, Assignment.EMPTY);
        assertThat(bGets.assignment()).isEqualTo(bTarget);
        f.beat("b", 2, bTarget);
        assertThat(f.group.state()).isEqualTo(ConsumerGroup.State.STABLE);
    }

    @Test
    void thePreviousEpochIsForgivenOnlyWithPartitionsTheMemberStillHolds() {
        Uuid t = f.topic("t", 4);
        f.join("a", "t");
        f.join("b", "t");
        f.beat("a", 1, partitions(t, 0, 1, 2, 3));
        Assignment aKeeps = f.member("a").assigned();
        assertThat(f.beat("a", 1, aKeeps).memberEpoch()).isEqualTo(2);
        // the answer with epoch 2 was lost: a asks again with epoch 1
        assertThat(f.beat("a", 1, aKeeps).error()).isEqualTo(Errors.NONE);
        assertThat(f.beat("a", 1, partitions(t, 0, 1, 2, 3)).error()).isEqualTo(Errors.FENCED_MEMBER_EPOCH);
        assertThat(f.beat("a", 1, null).error()).isEqualTo(Errors.FENCED_MEMBER_EPOCH);
        assertThat(f.beat("a", 0 + 5, aKeeps).error()).as("an epoch from the future").isEqualTo(Errors.FENCED_MEMBER_EPOCH);
        assertThat(f.beat("nobody", 3, null).error()).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
    }

    @Test
    void aMemberThatRejoinsStartsOverWithoutMovingTheGroupEpoch() {
        Uuid t = f.topic("t", 2);
        f.join("a", "t");
        int epoch = f.group.view().groupEpoch();
        Heartbeat.Result again = f.join("a", "t");
        assertThat(again.memberEpoch()).isEqualTo(epoch);
        assertThat(again.assignment()).isEqualTo(partitions(t, 0, 1));
        assertThat(f.group.view().groupEpoch()).isEqualTo(epoch);
    }

    @Test
    void aSilentMemberIsRemovedAfterItsSessionAndItsPartitionsGoToTheOthers() {
        Uuid t = f.topic("t", 4);
        f.join("a", "t");
        f.join("b", "t");
        f.beat("a", 1, partitions(t, 0, 1, 2, 3));
        f.beat("a", 1, f.member("a").assigned());
        f.beat("b", 2, Assignment.EMPTY);
        for (int i = 0; i < 12; i++) {
            f.advanceMs(1_000);
            f.beat("a", f.member("a").memberEpoch(), f.member("a").assigned());
        }
        assertThat(f.member("b")).as("b sent nothing for 12 s, its session is 10 s").isNull();
        assertThat(f.member("a").memberEpoch()).isEqualTo(3);
        assertThat(f.member("a").assigned()).as("taken in a's heartbeats since").isEqualTo(partitions(t, 0, 1, 2, 3));
        assertThat(f.beat("b", 2, Assignment.EMPTY).error()).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
    }

    @Test
    void aMemberThatDoesNotRevokeWithinItsRebalanceTimeoutIsRemoved() {
        Uuid t = f.topic("t", 4);
        f.join("a", "t");
        f.join("b", "t");
        f.beat("a", 1, partitions(t, 0, 1, 2, 3)); // asked to revoke two
        for (int i = 0; i < 31; i++) {
            f.advanceMs(1_000);
            f.beat("b", 2, Assignment.EMPTY);
            if (f.member("a") != null) {
                f.beat("a", 1, partitions(t, 0, 1, 2, 3)); // alive, but never lets go
            }
        }
        assertThat(f.member("a")).isNull();
        assertThat(f.member("b").assigned()).isEqualTo(partitions(t, 0, 1, 2, 3));
    }

    @Test
    void aStaticMemberKeepsItsPartitionsWhileAwayAndGetsThemBackWithoutARebalance() {
        Uuid t = f.topic("t", 4);
        f.joinStatic("a1", "alpha", "t");
        f.joinStatic("b1", "beta", "t");
        f.beatStatic("a1", "alpha", 1, partitions(t, 0, 1, 2, 3));
        f.beatStatic("a1", "alpha", 1, f.member("a1").assigned());
        f.beatStatic("b1", "beta", 2, Assignment.EMPTY);
        Assignment alphas = f.member("a1").assigned();
        int epoch = f.group.view().groupEpoch();

        assertThat(f.beatStatic("a1", "alpha", -2, null).memberEpoch()).isEqualTo(-2);
        assertThat(f.member("a1").assigned()).isEqualTo(alphas);
        assertThat(f.beatStatic("x", "beta", 2, null).error()).as("beta is another member's").isEqualTo(Errors.FENCED_INSTANCE_ID);
        assertThat(f.joinStatic("b2", "beta", "t").error()).as("beta has not left").isEqualTo(Errors.UNRELEASED_INSTANCE_ID);

        Heartbeat.Result back = f.joinStatic("a2", "alpha", "t");
        assertThat(back.error()).isEqualTo(Errors.NONE);
        assertThat(back.assignment()).isEqualTo(alphas);
        assertThat(back.memberEpoch()).isEqualTo(epoch);
        assertThat(f.group.view().groupEpoch()).isEqualTo(epoch);
        assertThat(f.member("a1")).isNull();
    }

    @Test
    void aStaticMemberAwayPastItsSessionIsRemoved() {
        Uuid t = f.topic("t", 2);
        f.joinStatic("a1", "alpha", "t");
        f.join("b", "t");
        f.beatStatic("a1", "alpha", -2, null);
        for (int i = 0; i < 11; i++) {
            f.advanceMs(1_000);
            f.beat("b", f.member("b").memberEpoch(), f.member("b").assigned());
        }
        assertThat(f.member("a1")).isNull();
        assertThat(f.member("b").assigned()).isEqualTo(partitions(t, 0, 1));
        assertThat(f.joinStatic("a2", "alpha", "t").error()).isEqualTo(Errors.NONE);
    }

    @Test
    void morePartitionsOrANewMatchingTopicMoveTheEpochAndAreAssigned() {
        Uuid t = f.topic("t", 2);
        f.join("a", "t");
        f.topic("t", 3);
        assertThat(f.beat("a", 1, partitions(t, 0, 1)).assignment()).as("looked at again after a second").isNull();
        f.advanceMs(1_000);
        Heartbeat.Result grown = f.beat("a", 1, partitions(t, 0, 1));
        assertThat(grown.memberEpoch()).isEqualTo(2);
        assertThat(grown.assignment()).isEqualTo(partitions(t, 0, 1, 2));

        Uuid orders = f.topic("orders-eu", 1);
        f.topic("payments", 1);
        Heartbeat.Result regex = f.group.heartbeat(new Heartbeat("r", 0, null, null, 30_000, null, "orders-.*", null, Assignment.EMPTY,
                "client", "/127.0.0.1"), f.now);
        assertThat(regex.assignment()).isEqualTo(partitions(orders, 0));
        Uuid later = f.topic("orders-us", 2);
        f.advanceMs(1_000);
        assertThat(f.beat("r", regex.memberEpoch(), partitions(orders, 0)).assignment())
                .isEqualTo(partitions(orders, 0).plus(partitions(later, 0, 1)));
    }

    @Test
    void badRequestsAreRefusedWithKafkasErrors() {
        f.topic("t", 1);
        assertThat(f.group.heartbeat(new Heartbeat("a", 0, null, null, 30_000, List.of("t"), null, "sticky", Assignment.EMPTY,
                "c", "h"), f.now).error()).isEqualTo(Errors.UNSUPPORTED_ASSIGNOR);
        assertThat(f.group.heartbeat(new Heartbeat("a", 0, null, null, 30_000, null, "orders-(", null, Assignment.EMPTY,
                "c", "h"), f.now).error()).isEqualTo(Errors.INVALID_REGULAR_EXPRESSION);
        GroupFixture small = new GroupFixture(new ConsumerGroupSettings(10_000, 1_000, List.of(new UniformAssignor()), 1));
        small.topic("t", 1);
        assertThat(small.join("a", "t").error()).isEqualTo(Errors.NONE);
        assertThat(small.join("b", "t").error()).isEqualTo(Errors.GROUP_MAX_SIZE_REACHED);
    }

    @Test
    void membersAskingForRangeGetRange() {
        Uuid t = f.topic("t", 4);
        Uuid u = f.topic("u", 4);
        for (String m : List.of("a", "b")) {
            f.group.heartbeat(new Heartbeat(m, 0, null, null, 30_000, List.of("t", "u"), null, "range", Assignment.EMPTY, "c", "h"), f.now);
        }
        assertThat(f.group.view().assignorName()).isEqualTo("range");
        assertThat(f.member("a").target()).isEqualTo(partitions(t, 0, 1).plus(partitions(u, 0, 1)));
        assertThat(f.member("b").target()).isEqualTo(partitions(t, 2, 3).plus(partitions(u, 2, 3)));
    }

    @Test
    void commitsAndFetchesNeedTheMembersCurrentEpoch() {
        Uuid t = f.topic("t", 2);
        assertThat(f.group.commitCheck(null, -1, (short) 9, false)).as("no members: anyone").isEqualTo(Errors.NONE);
        f.join("a", "t");
        assertThat(f.group.commitCheck("", -1, (short) 9, false)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(f.group.commitCheck("a", 1, (short) 9, false)).isEqualTo(Errors.NONE);
        assertThat(f.group.commitCheck("a", 1, (short) 8, false)).isEqualTo(Errors.UNSUPPORTED_VERSION);
        assertThat(f.group.commitCheck("a", 1, (short) 3, true)).isEqualTo(Errors.NONE);
        assertThat(f.group.commitCheck("a", 0, (short) 9, false)).isEqualTo(Errors.STALE_MEMBER_EPOCH);
        assertThat(f.group.fetchCheck(null, -1)).isEqualTo(Errors.NONE);
        assertThat(f.group.fetchCheck("a", 0)).isEqualTo(Errors.STALE_MEMBER_EPOCH);
        assertThat(f.group.fetchCheck("z", 1)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(f.group.markDeadIfEmpty()).isFalse();
        f.beat("a", -1, null);
        assertThat(f.group.state()).isEqualTo(ConsumerGroup.State.EMPTY);
        assertThat(f.group.markDeadIfEmpty()).isTrue();
        assertThat(f.join("a", "t").error()).isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE);
    }

    private static java.util.LinkedHashMap<String, byte[]> cooperative(List<String> topics, List<org.apache.kafka.common.TopicPartition> owned) {
        java.nio.ByteBuffer b = org.apache.kafka.clients.consumer.internals.ConsumerProtocol.serializeSubscription(
                new org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription(topics, null, owned));
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        java.util.LinkedHashMap<String, byte[]> protocols = new java.util.LinkedHashMap<>();
        protocols.put("cooperative-sticky", bytes);
        return protocols;
    }

    private org.apache.kafka.common.message.JoinGroupResponseData classicJoin(String member, List<org.apache.kafka.common.TopicPartition> owned) {
        return f.group.classicJoin(new ClassicJoin(member, null, "classic-client", "/127.0.0.1", 10_000, 30_000, "consumer",
                cooperative(List.of("t"), owned), true), f.now).join();
    }

    private static List<org.apache.kafka.common.TopicPartition> decode(byte[] assignment) {
        return org.apache.kafka.clients.consumer.internals.ConsumerProtocol.deserializeAssignment(java.nio.ByteBuffer.wrap(assignment)).partitions();
    }

    @Test
    void aClassicMemberJoinsWithoutABarrierAndRevokesByRejoiningWithWhatItStillOwns() {
        Uuid t = f.topic("t", 4);
        var joined = classicJoin("", List.of());
        assertThat(joined.errorCode()).isEqualTo(Errors.MEMBER_ID_REQUIRED.code());
        String classic = joined.memberId();
        joined = classicJoin(classic, List.of());
        assertThat(joined.errorCode()).isZero();
        assertThat(joined.generationId()).isEqualTo(1);
        assertThat(joined.leader()).as("a follower: it takes its assignment from SyncGroup").isEmpty();
        var synced = f.group.classicSync(classic, null, 1, "consumer", "cooperative-sticky", f.now);
        List<org.apache.kafka.common.TopicPartition> all = decode(synced.assignment());
        assertThat(all).hasSize(4);
        assertThat(f.group.classicHeartbeat(classic, null, 1, f.now)).isEqualTo(Errors.NONE);

        Heartbeat.Result modern = f.join("m", "t");
        assertThat(modern.assignment()).isEqualTo(Assignment.EMPTY);
        assertThat(f.group.classicHeartbeat(classic, null, 1, f.now)).as("told to rejoin").isEqualTo(Errors.REBALANCE_IN_PROGRESS);
        assertThat(f.group.classicSync(classic, null, 1, "consumer", "range", f.now).errorCode())
                .isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL.code());
        assertThat(f.group.classicHeartbeat(classic, null, 7, f.now)).isEqualTo(Errors.ILLEGAL_GENERATION);

        joined = classicJoin(classic, all); // still owns all four
        assertThat(joined.generationId()).as("held back until it revokes").isEqualTo(1);
        List<org.apache.kafka.common.TopicPartition> kept = decode(f.group.classicSync(classic, null, 1, "consumer", "cooperative-sticky", f.now)
                .assignment());
        assertThat(kept).hasSize(2);
        assertThat(f.beat("m", modern.memberEpoch(), Assignment.EMPTY).assignment()).as("nothing released yet").isNull();
        joined = classicJoin(classic, kept); // revoked the other two, rejoins as cooperative members do
        assertThat(joined.generationId()).isEqualTo(2);
        Heartbeat.Result released = f.beat("m", modern.memberEpoch(), Assignment.EMPTY);
        assertThat(released.assignment().size()).isEqualTo(2);
        assertThat(f.group.commitCheck(classic, 2, (short) 8, false)).as("classic members commit with their generation").isEqualTo(Errors.NONE);
        assertThat(f.group.commitCheck(classic, 1, (short) 8, false)).isEqualTo(Errors.ILLEGAL_GENERATION);
        assertThat(f.group.view().members()).extracting(ConsumerGroupView.Member::classic).containsExactlyInAnyOrder(true, false);
        assertThat(f.group.classicLeave(classic, null)).isEqualTo(Errors.NONE);
        assertThat(f.group.view().members()).hasSize(1);
    }

    @Test
    void aClassicMemberWithAnotherProtocolTypeOrNoSharedAssignorIsRefused() {
        f.topic("t", 1);
        var other = f.group.classicJoin(new ClassicJoin("x", null, "c", "h", 10_000, 30_000, "connect", cooperative(List.of("t"), List.of()),
                false), f.now).join();
        assertThat(other.errorCode()).isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL.code());
        classicJoin("a", List.of());
        java.util.LinkedHashMap<String, byte[]> range = new java.util.LinkedHashMap<>();
        range.put("range", cooperative(List.of("t"), List.of()).get("cooperative-sticky"));
        var noShared = f.group.classicJoin(new ClassicJoin("b", null, "c", "h", 10_000, 30_000, "consumer", range, false), f.now).join();
        assertThat(noShared.errorCode()).isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL.code());
    }

    @Test
    void anUpgradedClassicGroupKeepsItsMembersAssignmentsUntilTheNewMemberArrives() {
        Uuid t = f.topic("t", 4);
        byte[] half = assignment(List.of(new org.apache.kafka.common.TopicPartition("t", 0), new org.apache.kafka.common.TopicPartition("t", 1)));
        byte[] other = assignment(List.of(new org.apache.kafka.common.TopicPartition("t", 2), new org.apache.kafka.common.TopicPartition("t", 3)));
        ConsumerGroup upgraded = ConsumerGroup.fromClassic("g", new ConsumerGroupSettings(10_000, 1_000, List.of(new UniformAssignor()), 100), f,
                Journal.NONE, 7, List.of(new ClassicMemberState("c1", null, "c", "h", 10_000, 30_000, cooperative(List.of("t"), List.of()), half),
                        new ClassicMemberState("c2", null, "c", "h", 10_000, 30_000, cooperative(List.of("t"), List.of()), other)), f.now);
        ConsumerGroupView view = upgraded.view();
        assertThat(view.groupEpoch()).isEqualTo(7);
        assertThat(view.state()).isEqualTo(ConsumerGroup.State.STABLE);
        assertThat(view.members()).extracting(ConsumerGroupView.Member::assigned)
                .containsExactlyInAnyOrder(partitions(t, 0, 1), partitions(t, 2, 3));
        assertThat(upgraded.classicHeartbeat("c1", null, 7, f.now)).isEqualTo(Errors.NONE);
        upgraded.heartbeat(new Heartbeat("m", 0, null, null, 30_000, List.of("t"), null, null, Assignment.EMPTY, "c", "h"), f.now);
        assertThat(upgraded.view().groupEpoch()).isEqualTo(8);
        assertThat(upgraded.classicHeartbeat("c1", null, 7, f.now)).isEqualTo(Errors.REBALANCE_IN_PROGRESS);
    }

    private static byte[] assignment(List<org.apache.kafka.common.TopicPartition> partitions) {
        java.nio.ByteBuffer b = org.apache.kafka.clients.consumer.internals.ConsumerProtocol.serializeAssignment(
                new org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Assignment(partitions));
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return bytes;
    }
}
