package io.capstan.broker.group.modern;

/**
 * Where a member stands in reaching its target assignment (KIP-848): it has it (STABLE), it must first give up
 * partitions the target moved elsewhere (UNREVOKED_PARTITIONS, its epoch held back until it does), or it waits for
 * partitions another member has not released yet (UNRELEASED_PARTITIONS, already at the new epoch).
 */
public enum MemberState {
    STABLE,
    UNREVOKED_PARTITIONS,
    UNRELEASED_PARTITIONS
}
