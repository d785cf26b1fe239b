package io.capstan.broker.log;

import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/** A change to the log, applied by the group committer (the only writer of batches and shard state), in queue order. */
sealed interface LogCommand {

    /**
     * A validated batch; {@code batch} is owned by the log from here on, released once it is answered ({@link #finish}). A leader's batch gets its offsets and epoch
     * stamped, and is refused unless the shard is still in {@code leaderEpoch} when the committer comes to it
     * ({@link #ANY_EPOCH}: no such check); a follower's copy ({@code fromLeader}) keeps the leader's and must begin
     * at or after the shard's end (after it when the leader compacted the batches between away), and the shard must end at
     * {@code expectedEnd}, where the follower fetched from or its previous batch ended: a gap the leader did not send
     * (an earlier copy refused) is never skipped. A coordinator's own transactional batch ({@code fromCoordinator}: a
     * TxnOffsetCommit) carries no producer sequences to check, only its producer epoch, as Kafka's coordinator origin.
     * {@code verifiedLastTxnEnd} (a client's transactional batch, KIP-890 part 1): unless {@link #UNCHECKED}, a batch that
     * would open a transaction here is taken only if the coordinator confirmed the partition is in it
     * ({@link TxnVerification#OPEN} when no check was made because one was open) and no marker ended one of this producer since the
     * check began: the value is the producer's last marker offset seen then. {@code queuedNanos}: when it reached the log
     * ({@link System#nanoTime}), for the time it waits for its round.
     */
    record Append(Shard shard, ByteBuf batch, Consumer<AppendResult> callback, boolean fromLeader, int leaderEpoch, long expectedEnd,
                  boolean fromCoordinator, long verifiedLastTxnEnd, long queuedNanos) implements LogCommand {
        static final int ANY_EPOCH = -1;
        /** No transaction check: internal writes and tests. */
        static final long UNCHECKED = Long.MIN_VALUE;

        Append(Shard shard, ByteBuf batch, Consumer<AppendResult> callback, boolean fromLeader, int leaderEpoch, long expectedEnd,
               boolean fromCoordinator, long verifiedLastTxnEnd) {
            this(shard, batch, callback, fromLeader, leaderEpoch, expectedEnd, fromCoordinator, verifiedLastTxnEnd, System.nanoTime());
        }

        Append(Shard shard, ByteBuf batch, Consumer<AppendResult> callback, boolean fromLeader, int leaderEpoch, long expectedEnd) {
            this(shard, batch, callback, fromLeader, leaderEpoch, expectedEnd, false, UNCHECKED);
        }

        /** Answers the writer and lets go of the batch: the tail cache and the data file have what they need of it. */
        void finish(AppendResult result) {
            try {
                callback.accept(result);
            } finally {
                batch.release();
            }
        }
    }

    /** A follower whose log ends before its leader's log start: everything goes, and the log restarts empty at {@code offset}. */
    record Reset(Shard shard, long offset, CompletableFuture<Void> done) implements LogCommand {}

    /** A follower drops every batch from {@code offset} on (never committed: written under a deposed leader). */
    record TruncateEnd(Shard shard, long offset, long droppedBytes, CompletableFuture<Void> done) implements LogCommand {}

    /** Retention: drop every batch below {@code newStart}, which together hold {@code droppedBytes}. */
    /**
     * The log start moves to {@code newStart}; batches before {@code keepFrom} (a batch boundary at or below it) are
     * dropped. They differ when a DeleteRecords offset falls inside a batch, which stays, its records below the start
     * unreadable, as in Kafka.
     */
    record Truncate(Shard shard, long newStart, long keepFrom, long droppedBytes, CompletableFuture<Void> done) implements LogCommand {}

    /**
     * The cleaner's new versions of some batches below the high watermark (an empty {@code batch}: the batch goes), planned
     * in {@code incarnation} of the shard: void if its end was cut or the log cleared since. A rewrite of a batch that
     * retention dropped meanwhile is skipped. {@code cleaned}, on the last part of a pass, is how far it compacted.
     * {@code done}: whether it was applied.
     */
    record Compact(Shard shard, int incarnation, List<Rewrite> rewrites, CleanPoint cleaned, CompletableFuture<Boolean> done) implements LogCommand {}

    /** One batch as compaction left it; {@code oldLength}: its size before, for the shard's byte count. */
    record Rewrite(long baseOffset, long lastOffset, int oldLength, byte[] batch) {}

    /** Topic deletion: its metadata, batches, producer state and counters go in one write. */
    record Drop(byte[] metaKey, List<Shard> shards, CompletableFuture<Void> done) implements LogCommand {}

    /**
     * Data-file reclaiming: each batch goes to the newest data file and its entry points there, unless the entry no
     * longer holds {@code ref} (dropped or rewritten since it was read). {@code moved}: how many were.
     */
    record Relocate(List<Move> moves, java.util.concurrent.atomic.AtomicInteger moved, CompletableFuture<Integer> done) implements LogCommand {}

    /** One batch to move: its log key, the reference it was read through, and its bytes. */
    record Move(byte[] key, byte[] ref, byte[] batch) {}

    /** Stops the committer after everything queued before it. */
    record Stop() implements LogCommand {}
}
