package io.capstan.broker.group;

/** A committed consumer position: the next offset to read, the leader epoch it was read under, client metadata. */
public record CommittedOffset(long offset, int leaderEpoch, String metadata, long commitTimestamp) {}
