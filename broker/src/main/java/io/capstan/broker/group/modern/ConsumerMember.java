package io.capstan.broker.group.modern;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A member of a consumer-protocol group as the coordinator knows it: who it is, what it subscribes to, and how far it
 * has come towards its target assignment. Immutable; a heartbeat produces the next version.
 *
 * @param memberEpoch         the epoch of the assignment the member holds; it moves to the group's assignment epoch
 *                            once the member has revoked what the target took away
 * @param previousMemberEpoch the epoch before the last move, still accepted once (the answer carrying the new one may
 *                            have been lost)
 * @param assigned            the partitions the member may consume now
 * @param pendingRevocation   the partitions it must give up before it gets a new epoch
 * @param classic             for a member using the classic protocol (JoinGroup, SyncGroup, Heartbeat), what it joined
 *                            with; null for a consumer-protocol member
 */
public record ConsumerMember(String memberId, String instanceId, String rackId, String clientId, String clientHost,
                             int rebalanceTimeoutMs, Set<String> subscribedTopicNames, String subscribedTopicRegex,
                             String serverAssignor, int memberEpoch, int previousMemberEpoch, MemberState state,
                             Assignment assigned, Assignment pendingRevocation, ClassicMetadata classic) {

    public ConsumerMember {
        subscribedTopicNames = Set.copyOf(new TreeSet<>(subscribedTopicNames));
    }

    /** A member that has just joined: nothing assigned, epoch 0. */
    public static ConsumerMember joining(String memberId, String instanceId, String clientId, String clientHost) {
        return new ConsumerMember(memberId, instanceId, null, clientId, clientHost, 0, Set.of(), null, null, 0, 0,
                MemberState.STABLE, Assignment.EMPTY, Assignment.EMPTY, null);
    }

    /** The fields a heartbeat may change, each null (or -1) when the request left it unchanged. */
    public ConsumerMember updated(String newInstanceId, String newRackId, int newRebalanceTimeoutMs, List<String> newTopicNames,
                                  String newTopicRegex, String newAssignor, String newClientId, String newClientHost) {
        return new ConsumerMember(memberId, newInstanceId != null ? newInstanceId : instanceId,
                newRackId != null ? newRackId : rackId, newClientId, newClientHost,
                newRebalanceTimeoutMs >= 0 ? newRebalanceTimeoutMs : rebalanceTimeoutMs,
                newTopicNames != null ? Set.copyOf(newTopicNames) : subscribedTopicNames,
                newTopicRegex != null ? (newTopicRegex.isEmpty() ? null : newTopicRegex) : subscribedTopicRegex,
                newAssignor != null ? newAssignor : serverAssignor,
                memberEpoch, previousMemberEpoch, state, assigned, pendingRevocation, classic);
    }

    /** Back at epoch 0 under {@code newMemberId}: with nothing (a rejoin) or with what it held (a static member's restart). */
    public ConsumerMember startedOver(String newMemberId, boolean keepPartitions) {
        return new ConsumerMember(newMemberId, instanceId, rackId, clientId, clientHost, rebalanceTimeoutMs, subscribedTopicNames,
                subscribedTopicRegex, serverAssignor, 0, 0, keepPartitions ? state : MemberState.STABLE,
                keepPartitions ? assigned : Assignment.EMPTY, keepPartitions ? pendingRevocation : Assignment.EMPTY, classic);
    }

    /** The next reconciliation step: a state, an epoch (the previous one remembered when it moves) and partitions. */
    public ConsumerMember reconciled(MemberState newState, int epoch, Assignment newAssigned, Assignment newPendingRevocation) {
        return new ConsumerMember(memberId, instanceId, rackId, clientId, clientHost, rebalanceTimeoutMs, subscribedTopicNames,
                subscribedTopicRegex, serverAssignor, epoch, epoch == memberEpoch ? previousMemberEpoch : memberEpoch, newState,
                newAssigned, newPendingRevocation, classic);
    }

    /** The same member under the protocol its latest request used: classic metadata, or none for a consumer-protocol heartbeat. */
    public ConsumerMember withClassic(ClassicMetadata metadata) {
        return new ConsumerMember(memberId, instanceId, rackId, clientId, clientHost, rebalanceTimeoutMs, subscribedTopicNames,
                subscribedTopicRegex, serverAssignor, memberEpoch, previousMemberEpoch, state, assigned, pendingRevocation, metadata);
    }

    /** A member of a classic group taken over by an upgrade: what it holds becomes its assignment at the group's generation. */
    public static ConsumerMember fromClassic(String memberId, String instanceId, String clientId, String clientHost, int rebalanceTimeoutMs,
                                             Set<String> topics, String rackId, int generation, Assignment assigned, ClassicMetadata classic) {
        return new ConsumerMember(memberId, instanceId, rackId, clientId, clientHost, rebalanceTimeoutMs, topics, null, null,
                generation, generation, MemberState.STABLE, assigned, Assignment.EMPTY, classic);
    }

    public boolean usesClassicProtocol() {
        return classic != null;
    }

    public boolean sameSubscription(ConsumerMember other) {
        return subscribedTopicNames.equals(other.subscribedTopicNames) && Objects.equals(subscribedTopicRegex, other.subscribedTopicRegex);
    }

    /** Holds its target of {@code targetEpoch} with nothing left to revoke or to receive. */
    public boolean reconciledTo(int targetEpoch) {
        return memberEpoch == targetEpoch && state == MemberState.STABLE;
    }
}
