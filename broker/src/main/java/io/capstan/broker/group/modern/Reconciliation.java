package io.capstan.broker.group.modern;

/**
 * Moves one member towards its target assignment without a group-wide barrier (KIP-848): a partition reaches its new
 * owner only after the old owner has said (in its owned partitions) that it no longer consumes it, so no partition is
 * ever consumed by two members at once. Pure: the group supplies who holds what.
 */
public final class Reconciliation {

    /** Which member epoch holds a partition now (assigned or awaiting revocation), or {@link #FREE}. */
    @FunctionalInterface
    public interface Holders {
        int FREE = -1;

        int epochOf(org.apache.kafka.common.Uuid topic, int partition);
    }

    private Reconciliation() {}

    /**
     * The member's next state.
     *
     * @param owned the partitions the member reported owning in this heartbeat, null when it did not report them (then
     *              it is taken to still own everything it was asked to revoke)
     */
    public static ConsumerMember next(ConsumerMember member, int targetEpoch, Assignment target, Holders holders, Assignment owned) {
        return switch (member.state()) {
            case STABLE -> member.memberEpoch() == targetEpoch ? member : step(member, member.memberEpoch(), targetEpoch, target, holders, owned);
            // the epoch moves on only once the member has let go of every partition it was asked to revoke
            case UNREVOKED_PARTITIONS -> stillOwns(owned, member.pendingRevocation()) ? member
                    : step(member, member.memberEpoch() + 1, targetEpoch, target, holders, owned);
            case UNRELEASED_PARTITIONS -> step(member, member.memberEpoch(), targetEpoch, target, holders, owned);
        };
    }

    private static ConsumerMember step(ConsumerMember member, int epochWhileRevoking, int targetEpoch, Assignment target,
                                       Holders holders, Assignment owned) {
        Assignment kept = member.assigned().intersect(target);
        Assignment toRevoke = member.assigned().minus(target);
        Assignment wanted = target.minus(kept);
        Assignment available = wanted.filter((t, p) -> holders.epochOf(t, p) == Holders.FREE);
        boolean unreleased = available.size() < wanted.size();
        if (!toRevoke.isEmpty() && stillOwns(owned, toRevoke)) {
            return member.reconciled(MemberState.UNREVOKED_PARTITIONS, epochWhileRevoking, kept, toRevoke);
        }
        MemberState state = unreleased ? MemberState.UNRELEASED_PARTITIONS : MemberState.STABLE;
        return member.reconciled(state, targetEpoch, kept.plus(available), Assignment.EMPTY);
    }

    private static boolean stillOwns(Assignment owned, Assignment revoking) {
        return owned == null || owned.overlaps(revoking);
    }
}
