package io.capstan.broker.group;

import java.util.HashMap;
import java.util.Map;

/**
 * Replay's memory of which write decided each key: a write counts only if it stands later in the order of writes than
 * the one that decided the key so far. Log order is that order except for a compaction's copy, which is appended after
 * writes that raced it and stands where the state it copies was taken ({@link OffsetRecords#writtenAt}). Deletions are
 * remembered too, so an older copy cannot bring a deleted key back.
 */
final class LatestWrites {
    private final Map<Object, Long> decidedAt = new HashMap<>();

    /** True, and remembered, when a write standing at {@code writtenAt} is later than the one that decided the key. */
    boolean decides(Object key, long writtenAt) {
        Long before = decidedAt.get(key);
        if (before != null && before >= writtenAt) {
            return false;
        }
        decidedAt.put(key, writtenAt);
        return true;
    }
}
