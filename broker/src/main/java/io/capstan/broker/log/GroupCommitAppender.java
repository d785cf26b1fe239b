package io.capstan.broker.log;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import org.apache.kafka.common.protocol.Errors;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single writer of the log (see docs/decisions/0001), in two stages. The writer thread drains every command
 * queued since its last round across all shards; for appends it assigns offsets, checks producer sequences and stamps
 * offsets and leader epochs in place; retention truncations and topic drops join the same RocksDB WriteBatch, written
 * without waiting for the disk. The syncer thread then fsyncs once for every round written meanwhile (the data files,
 * which with format 3 hold each round's RocksDB write too, decision 0033; otherwise the data files and then RocksDB's
 * WAL), and only then moves high watermarks and answers, in round order. So the next round is written while the previous one
 * is being synced, and one fsync covers several rounds. A failed write rolls its round back; a failed sync answers
 * KAFKA_STORAGE_ERROR (the records may still reach the disk later, which a retrying idempotent producer sees as a
 * duplicate: an ambiguous failure, as in Kafka).
 */
public final class GroupCommitAppender implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GroupCommitAppender.class);

    private final LogStore store;
    private final boolean syncEachRound;
    private final int maxCommandsPerRound;
    private final CommitListener listener;
    private final CommitStats stats;
    private final BlockingQueue<LogCommand> queue = new LinkedBlockingQueue<>();
    private final BlockingQueue<WrittenRound> written = new LinkedBlockingQueue<>();
    private final Thread thread;
    private final Thread syncer;
    private final FatalErrorHandler fatal;
    /**
     * Set once a WAL sync failed: from then on nothing is appended or published. What the WAL holds is unknown (a failed
     * fsync may have dropped written pages), so rounds written after it must not become visible by a later sync.
     */
    private volatile Exception syncFailed;
    private final List<WrittenRound> syncing = new ArrayList<>();

    /** A round written to RocksDB, waiting for the WAL sync that makes it durable; {@code ends} are shard ends after it. */
    private record WrittenRound(List<LogCommand> commands, List<AppendResult> results, Map<Shard, Long> ends,
                                Map<Shard, Long> newLogStarts, Map<Shard, Long> truncatedEnds, Map<Shard, ShardChange> cleaned,
                                Map<Shard, long[]> txnSpans, Map<Shard, Map<Long, TxnVerification.View>> txnViews, int batches, long bytes,
                                long writeStartNanos, long writeNanos, List<Integer> unreferencedFiles) {}

    private static final WrittenRound STOP_SYNCER = new WrittenRound(List.of(), List.of(), Map.of(), Map.of(), Map.of(), Map.of(), Map.of(),
            Map.of(), 0, 0, 0, 0, List.of());
    private final BatchHeader header = new BatchHeader();
    private final List<LogCommand> round = new ArrayList<>();
    private final List<AppendResult> results = new ArrayList<>();
    private final Map<Shard, ShardChange> changes = new IdentityHashMap<>();
    /** Bytes of each data file this round's references add (appends) or drop (deletions); applied once it is written. */
    private final Map<Integer, Long> referenced = new HashMap<>();
    /**
     * Log keys this round already counted as dropped: two deletions of one range in a round (retention, then a reset)
     * both see it in RocksDB, and counting it twice would let a file go while references to it remain. (An entry both
     * appended and deleted in one round is not seen at all: its file is then kept until the next start recounts.)
     */
    private final java.util.Set<ByteBuffer> droppedKeys = new java.util.HashSet<>();
    /** Log keys this round moved to another data file, with their new entry (see {@link #dropped}). */
    private final Map<ByteBuffer, byte[]> relocated = new HashMap<>();
    /** Whether this round moves batches between data files. */
    private boolean movedBatches;

    /** What one round does to one shard, applied to the shard only once the write is durable. */
    private static final class ShardChange {
        final long startOffset;
        long sizeBytes;
        long newLogStart = -1;
        long truncatedEnd = -1;
        /** The shard's new clean point, persisted with this round (null: unchanged). */
        CleanPoint cleanPoint;
        /** The last offset of the newest batch compaction rewrote, or -1. */
        long compactedUpTo = -1;
        /** The epoch history before this round truncated or cleared it (appends only add to it: no copy needed). */
        Map<Integer, Long> epochsBefore;
        final Map<Long, ProducerEntry> producers = new HashMap<>();
        /** The first offset at which this round opened a transaction, for the stable offset an abort marker records. */
        long firstTxnOpened = Long.MAX_VALUE;
        /** The log was cleared: every transaction span goes. */
        boolean reset;

        ShardChange(Shard shard) {
            this.startOffset = shard.nextOffset();
            this.sizeBytes = shard.sizeBytes();
        }

        void keepEpochs(Shard shard) {
            if (epochsBefore == null) {
                epochsBefore = shard.epochs().asMap();
            }
        }
    }

    public GroupCommitAppender(LogStore store, boolean syncEachRound, int maxCommandsPerRound,
                               CommitListener listener, CommitStats stats, FatalErrorHandler fatal) {
        this.store = store;
        this.fatal = fatal;
        this.syncEachRound = syncEachRound;
        this.maxCommandsPerRound = maxCommandsPerRound;
        this.listener = listener;
        this.stats = stats;
        this.thread = new Thread(this::run, "capstan-group-commit");
        this.thread.setDaemon(true);
        this.syncer = new Thread(this::syncLoop, "capstan-wal-sync");
        this.syncer.setDaemon(true);
    }

    public void start() {
        syncer.start();
        thread.start();
    }

    /** Queues a validated batch; the callback runs on the committer thread once it is durable or has failed. */
    public void append(Shard shard, ByteBuf batch, Consumer<AppendResult> callback) {
        queue.add(new LogCommand.Append(shard, batch, callback, false, LogCommand.Append.ANY_EPOCH, -1));
    }

    /** The same for a leader that decided to take it in {@code leaderEpoch}: refused if the shard has moved on since. */
    public void append(Shard shard, ByteBuf batch, int leaderEpoch, Consumer<AppendResult> callback) {
        queue.add(new LogCommand.Append(shard, batch, callback, false, leaderEpoch, -1));
    }

    /** Queues a coordinator's own transactional batch, whose sequences are not checked (see {@link LogCommand.Append}). */
    public void appendAsCoordinator(Shard shard, ByteBuf batch, int leaderEpoch, Consumer<AppendResult> callback) {
        queue.add(new LogCommand.Append(shard, batch, callback, false, leaderEpoch, -1, true, LogCommand.Append.UNCHECKED));
    }

    /** Queues a client's transactional batch checked as {@link LogCommand.Append} says for {@code verifiedLastTxnEnd}. */
    public void appendTransactional(Shard shard, ByteBuf batch, int leaderEpoch, long verifiedLastTxnEnd, Consumer<AppendResult> callback) {
        queue.add(new LogCommand.Append(shard, batch, callback, false, leaderEpoch, -1, false, verifiedLastTxnEnd));
    }

    /** Queues a follower's copy of the leader's batch, offsets and epoch already stamped, for a log ending at {@code expectedEnd}. */
    public void appendFromLeader(Shard shard, ByteBuf batch, long expectedEnd, Consumer<AppendResult> callback) {
        queue.add(new LogCommand.Append(shard, batch, callback, true, LogCommand.Append.ANY_EPOCH, expectedEnd));
    }

    CompletableFuture<Void> reset(Shard shard, long offset) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        queue.add(new LogCommand.Reset(shard, offset, done));
        return done;
    }

    CompletableFuture<Void> truncateEnd(Shard shard, long offset, long droppedBytes) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        queue.add(new LogCommand.TruncateEnd(shard, offset, droppedBytes, done));
        return done;
    }

    CompletableFuture<Void> truncate(Shard shard, long newStart, long droppedBytes) {
        return truncate(shard, newStart, newStart, droppedBytes);
    }

    CompletableFuture<Void> truncate(Shard shard, long newStart, long keepFrom, long droppedBytes) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        queue.add(new LogCommand.Truncate(shard, newStart, keepFrom, droppedBytes, done));
        return done;
    }

    CompletableFuture<Boolean> compact(Shard shard, int incarnation, List<LogCommand.Rewrite> rewrites, CleanPoint cleaned) {
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        queue.add(new LogCommand.Compact(shard, incarnation, rewrites, cleaned, done));
        return done;
    }

    /** Moves batches out of a data file (see {@link LogCommand.Relocate}); completes with how many moved. */
    CompletableFuture<Integer> relocate(List<LogCommand.Move> moves) {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        queue.add(new LogCommand.Relocate(moves, new java.util.concurrent.atomic.AtomicInteger(), done));
        return done;
    }

    CompletableFuture<Void> drop(byte[] metaKey, List<Shard> shards) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        queue.add(new LogCommand.Drop(metaKey, shards, done));
        return done;
    }

    private void run() {
        boolean stop = false;
        try {
            while (!stop) {
                round.add(queue.take());
                queue.drainTo(round, maxCommandsPerRound - 1);
                int stopAt = indexOfStop();
                if (stopAt >= 0) {
                    queue.addAll(round.subList(stopAt + 1, round.size()));
                    round.subList(stopAt, round.size()).clear();
                    stop = true;
                }
                if (!round.isEmpty()) {
                    if (syncFailed != null) {
                        refuseRound();
                    } else {
                        commitRound();
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable e) {
            fatal.fatal("the group-commit thread died (" + e + "); no write can be accepted any more", e);
        } finally {
            LogCommand left;
            while ((left = queue.poll()) != null) {
                fail(left, AppendResult.failed(Errors.NOT_LEADER_OR_FOLLOWER, "broker is shutting down"), new IllegalStateException("log closed"));
            }
        }
    }

    /** After a failed WAL sync every command is refused: the broker is about to stop. */
    private void refuseRound() {
        Exception cause = syncFailed;
        for (LogCommand command : round) {
            fail(command, AppendResult.failed(Errors.KAFKA_STORAGE_ERROR, "the log could not be synced to disk and the broker is "
                    + "stopping to recover; retry (another replica leads meanwhile)"), cause);
        }
        round.clear();
    }

    private int indexOfStop() {
        for (int i = 0; i < round.size(); i++) {
            if (round.get(i) instanceof LogCommand.Stop) {
                return i;
            }
        }
        return -1;
    }

    private void commitRound() {
        long bytes = 0;
        try (WriteBatch batch = new WriteBatch()) {
            for (LogCommand command : round) {
                results.add(stage(command, batch));
                if (command instanceof LogCommand.Append a) {
                    bytes += a.batch().readableBytes();
                }
            }
            for (Map.Entry<Shard, ShardChange> e : changes.entrySet()) {
                if (!e.getKey().deleted()) {
                    batch.put(store.metaFamily(), ShardRecovery.sizeKey(e.getKey().key()), longBytes(e.getValue().sizeBytes));
                }
            }
            long start = System.nanoTime();
            DataFiles files = store.dataFiles();
            if (files != null) {
                store.recordDataSynced(batch);
                store.writeRoundData(batch);
                if (movedBatches) {
                    // moved batches were acknowledged long ago: their new copies must be durable before any reference to
                    // them can be (RocksDB's WAL may reach the disk before the next sync)
                    try {
                        files.force();
                    } catch (java.io.IOException e) {
                        throw new StorageException("the fsync of the data files failed: " + e.getMessage(), e);
                    }
                }
            }
            store.write(batch, false);
            if (files != null) {
                files.roundDone();
                store.roundApplied();
            }
            long writeNanos = System.nanoTime() - start;
            List<Integer> unreferenced = List.of();
            if (files != null) {
                for (Map.Entry<Integer, Long> e : referenced.entrySet()) {
                    files.referenced(e.getKey(), e.getValue());
                    // only a drop can leave a file without references
                    if (e.getValue() < 0 && files.unreferenced(e.getKey())) {
                        if (unreferenced.isEmpty()) {
                            unreferenced = new ArrayList<>();
                        }
                        unreferenced.add(e.getKey());
                    }
                }
            }
            // the writer's own view moves on at once, so the next round sees these producers and sizes
            Map<Shard, Long> ends = new IdentityHashMap<>();
            Map<Shard, Long> starts = new IdentityHashMap<>();
            Map<Shard, Long> truncated = new IdentityHashMap<>();
            Map<Shard, ShardChange> cleaned = new IdentityHashMap<>();
            Map<Shard, long[]> spans = new IdentityHashMap<>();
            Map<Shard, Map<Long, TxnVerification.View>> views = new IdentityHashMap<>();
            changes.forEach((shard, change) -> {
                TxnSpans txns = shard.txnSpans();
                boolean txnsChanged = change.reset || change.truncatedEnd >= 0;
                if (change.reset) {
                    txns.clear();
                } else if (change.truncatedEnd >= 0) {
                    txns.truncate(change.truncatedEnd);
                }
                for (Map.Entry<Long, ProducerEntry> e : change.producers.entrySet()) {
                    txnsChanged |= txns.update(shard.producer(e.getKey()), e.getValue());
                }
                for (Map.Entry<Long, ProducerEntry> e : change.producers.entrySet()) {
                    ProducerEntry before = shard.producer(e.getKey());
                    if (TxnVerification.changed(before, e.getValue())) {
                        views.computeIfAbsent(shard, s -> new HashMap<>()).put(e.getKey(), TxnVerification.view(e.getValue()));
                    }
                }
                if (txnsChanged || !txns.isEmpty()) {
                    txns.prune(shard.highWatermark());
                    spans.put(shard, txns.snapshot());
                }
                change.producers.forEach(shard::producer);
                shard.sizeBytes(change.sizeBytes);
                ends.put(shard, shard.nextOffset());
                if (change.newLogStart >= 0) {
                    starts.put(shard, change.newLogStart);
                    shard.writtenLogStart(change.newLogStart);
                }
                if (change.truncatedEnd >= 0) {
                    truncated.put(shard, change.truncatedEnd);
                    shard.newIncarnation();
                }
                if (change.cleanPoint != null || change.compactedUpTo >= 0) {
                    cleaned.put(shard, change);
                }
            });
            written.add(new WrittenRound(new ArrayList<>(round), new ArrayList<>(results), ends, starts, truncated, cleaned,
                    spans, views, round.size(), bytes, start, writeNanos, unreferenced));
        } catch (RocksDBException | RuntimeException e) {
            stats.failed();
            rollBack(e);
        } finally {
            round.clear();
            results.clear();
            changes.clear();
            referenced.clear();
            droppedKeys.clear();
            relocated.clear();
            movedBatches = false;
        }
    }

    /** The second stage: one WAL sync for every round written since the last one, then the answers, in order. */
    private void syncLoop() {
        try {
            while (true) {
                syncing.add(written.take());
                written.drainTo(syncing);
                boolean stop = syncing.remove(STOP_SYNCER);
                if (!syncing.isEmpty()) {
                    if (syncFailed != null) {
                        failSyncing(syncFailed);
                    } else {
                        syncAndPublish();
                    }
                }
                syncing.clear();
                if (stop) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable e) {
            fatal.fatal("the WAL sync thread died (" + e + "); no write can be acknowledged any more", e);
        }
    }

    private void syncAndPublish() {
        long start = System.nanoTime();
        try {
            if (syncEachRound) {
                store.syncRound();
            }
        } catch (RocksDBException | RuntimeException e) {
            stats.failed();
            syncFailed = e;
            log.error("WAL sync of {} rounds failed, their producers get KAFKA_STORAGE_ERROR: {}", syncing.size(), e.toString());
            failSyncing(e);
            fatal.fatal("the WAL fsync failed (" + e.getMessage() + ")", e);
            return;
        }
        long end = System.nanoTime();
        long syncNanos = end - start;
        int batches = 0;
        long bytes = 0;
        for (WrittenRound r : syncing) {
            publish(r, new AppendResult.CommitTimes(r.writeStartNanos(), r.writeStartNanos() + r.writeNanos(), start, end));
            batches += r.batches();
            bytes += r.bytes();
        }
        WrittenRound last = syncing.get(syncing.size() - 1);
        stats.round(batches, bytes, last.writeNanos() + syncNanos);
        deleteUnreferencedFiles();
    }

    /** Data files whose last references the rounds just synced dropped: deleted now that the drop is durable. */
    private void deleteUnreferencedFiles() {
        List<Integer> files = new ArrayList<>();
        syncing.forEach(r -> files.addAll(r.unreferencedFiles()));
        if (files.isEmpty()) {
            return;
        }
        if (!syncEachRound || store.writesRounds()) {
            try {
                // RocksDB's WAL was not synced with these rounds (log.flush.policy=interval, or the rounds are in the data
                // files): a crash must not bring back references to a deleted file, nor leave rounds to replay in it
                store.syncWal();
            } catch (RocksDBException | RuntimeException e) {
                fatal.fatal("the WAL fsync before deleting unreferenced data files failed (" + e.getMessage() + ")", e);
                return;
            }
        }
        store.dataFiles().deleteUnreferenced(files);
    }

    /** Answers every command of the rounds being synced with the error it decided, or KAFKA_STORAGE_ERROR; publishes none. */
    private void failSyncing(Exception e) {
        String message = "the log could not be synced to disk (" + e.getMessage() + "); retry, and check the data volume";
        for (WrittenRound r : syncing) {
            for (int i = 0; i < r.commands().size(); i++) {
                AppendResult decided = r.results().get(i);
                fail(r.commands().get(i), decided != null && decided.error() != Errors.NONE && !decided.alreadyWritten() ? decided
                        : AppendResult.failed(Errors.KAFKA_STORAGE_ERROR, message), e);
            }
        }
    }

    /** Adds one command to the write; returns an append's result when it needs no write (refused or duplicate). */
    private AppendResult stage(LogCommand command, WriteBatch batch) throws RocksDBException {
        if (command instanceof LogCommand.Append a) {
            return stageAppend(a, batch);
        }
        if (command instanceof LogCommand.Truncate t) {
            if (!t.shard().deleted() && t.newStart() > t.shard().logStartOffset()) {
                ShardChange change = change(t.shard());
                dropReferences(LogKeys.shardStart(t.shard().key()), LogKeys.of(t.shard().key(), t.keepFrom()));
                batch.deleteRange(store.logFamily(), LogKeys.shardStart(t.shard().key()), LogKeys.of(t.shard().key(), t.keepFrom()));
                // aborted transactions ending below the start can overlap no fetch any more
                batch.deleteRange(store.abortedTxnFamily(), LogKeys.shardStart(t.shard().key()), AbortedTxn.key(t.shard().key(), t.newStart()));
                // remembered: a start inside the first kept batch is not where that batch begins
                batch.put(store.metaFamily(), ShardRecovery.logStartKey(t.shard().key()), longBytes(t.newStart()));
                change.newLogStart = t.newStart();
                change.sizeBytes -= t.droppedBytes();
                CleanPoint clean = change.cleanPoint != null ? change.cleanPoint : t.shard().cleanPoint();
                if (!clean.equals(CleanPoint.NONE)) {
                    change.cleanPoint = clean.afterDropping(t.newStart(), t.droppedBytes());
                    batch.put(store.metaFamily(), CleanPoint.key(t.shard().key()), change.cleanPoint.encode());
                }
            }
            return null;
        }
        if (command instanceof LogCommand.Compact c) {
            stageCompact(c, batch);
            return null;
        }
        if (command instanceof LogCommand.TruncateEnd t) {
            stageTruncateEnd(t, batch);
            return null;
        }
        if (command instanceof LogCommand.Reset r) {
            stageReset(r, batch);
            return null;
        }
        if (command instanceof LogCommand.Relocate r) {
            stageRelocate(r, batch);
            return null;
        }
        if (command instanceof LogCommand.Drop d) {
            batch.delete(store.metaFamily(), d.metaKey());
            for (Shard shard : d.shards()) {
                shard.markDeleted(true);
                dropReferences(LogKeys.shardStart(shard.key()), LogKeys.shardEnd(shard.key()));
                batch.deleteRange(store.logFamily(), LogKeys.shardStart(shard.key()), LogKeys.shardEnd(shard.key()));
                batch.deleteRange(store.producerFamily(), LogKeys.shardStart(shard.key()), LogKeys.shardEnd(shard.key()));
                batch.deleteRange(store.abortedTxnFamily(), LogKeys.shardStart(shard.key()), LogKeys.shardEnd(shard.key()));
                batch.delete(store.metaFamily(), ShardRecovery.sizeKey(shard.key()));
                batch.delete(store.metaFamily(), EpochHistory.key(shard.key()));
                batch.delete(store.metaFamily(), ShardRecovery.logStartKey(shard.key()));
                batch.delete(store.metaFamily(), CleanPoint.key(shard.key()));
            }
            return null;
        }
        throw new IllegalStateException("stop is handled by the loop");
    }

    /** A batch as the log stores it: in a data file with a reference here when the store appends to them. */
    private byte[] logValue(byte[] batch) {
        byte[] value = store.logValue(batch);
        if (value != batch) {
            referenced.merge(BatchRef.file(value), (long) batch.length, Long::sum);
        }
        return value;
    }

    /** The same for a batch in a buffer: appended to a data file from where it is, or copied inline when small. */
    private byte[] logValue(ByteBuf batch) {
        byte[] value = store.logValue(batch);
        if (BatchRef.is(value)) {
            referenced.merge(BatchRef.file(value), (long) batch.readableBytes(), Long::sum);
        }
        return value;
    }

    /** Counts the references of {@code [lower, upper)} of the log as dropped, before a deletion of that range. */
    private void dropReferences(byte[] lower, byte[] upper) {
        if (store.dataFiles() == null) {
            return;
        }
        try (LogStore.RangeIterator range = store.iterate(store.logFamily(), lower, upper)) {
            org.rocksdb.RocksIterator it = range.it();
            for (it.seekToFirst(); it.isValid(); it.next()) {
                dropped(it.key(), it.value());
            }
            range.check();
        }
    }

    private void dropReference(byte[] key) {
        if (store.dataFiles() != null) {
            byte[] value = store.logEntry(key);
            if (value != null) {
                dropped(key, value);
            }
        }
    }

    private void dropped(byte[] key, byte[] value) {
        if (!BatchRef.is(value)) {
            return;
        }
        ByteBuffer k = ByteBuffer.wrap(key);
        if (droppedKeys.add(k)) {
            referenced.merge(BatchRef.file(value), (long) -BatchRef.batchLength(value), Long::sum);
        } else {
            // moved earlier in this round (the store still shows the old reference): what goes is the new one
            byte[] moved = relocated.remove(k);
            if (moved != null && BatchRef.is(moved)) {
                referenced.merge(BatchRef.file(moved), (long) -BatchRef.batchLength(moved), Long::sum);
            }
        }
    }

    /**
     * Writes each batch again through {@link #logValue} (to the newest data file) and points its entry there, unless
     * the entry was dropped earlier in this round or no longer holds the reference the batch was read through.
     */
    private void stageRelocate(LogCommand.Relocate r, WriteBatch batch) throws RocksDBException {
        int moved = 0;
        for (LogCommand.Move m : r.moves()) {
            ByteBuffer key = ByteBuffer.wrap(m.key());
            if (droppedKeys.contains(key) || !java.util.Arrays.equals(store.logEntry(m.key()), m.ref())) {
                continue;
            }
            byte[] value = logValue(m.batch());
            batch.put(store.logFamily(), m.key(), value);
            dropped(m.key(), m.ref());
            relocated.put(key, value);
            moved++;
        }
        r.moved().set(moved);
        movedBatches |= moved > 0;
    }

    /**
     * Applies the cleaner's rewrites unless the log changed under them: a cut end or a cleared log voids the whole pass
     * (its map may name records that are gone); a batch that retention dropped since is not written back.
     */
    private void stageCompact(LogCommand.Compact c, WriteBatch batch) throws RocksDBException {
        Shard shard = c.shard();
        ShardChange change = change(shard);
        if (shard.deleted() || shard.incarnation() != c.incarnation() || change.truncatedEnd >= 0) {
            c.done().complete(false);
            return;
        }
        long start = change.newLogStart >= 0 ? change.newLogStart : shard.writtenLogStart();
        for (LogCommand.Rewrite r : c.rewrites()) {
            if (r.lastOffset() < start || r.baseOffset() >= shard.nextOffset()) {
                continue;
            }
            byte[] key = LogKeys.of(shard.key(), r.baseOffset());
            // the rewritten batch stays inline: compacted shards live long, and would keep data files alive
            dropReference(key);
            if (r.batch().length == 0) {
                batch.delete(store.logFamily(), key);
            } else {
                batch.put(store.logFamily(), key, r.batch());
            }
            change.sizeBytes += r.batch().length - r.oldLength();
            change.compactedUpTo = Math.max(change.compactedUpTo, r.lastOffset());
        }
        // the start is kept where it is: once the first batch is compacted away, recovery must not take the next one's
        batch.put(store.metaFamily(), ShardRecovery.logStartKey(shard.key()), longBytes(start));
        if (c.cleaned() != null) {
            change.cleanPoint = c.cleaned();
            batch.put(store.metaFamily(), CleanPoint.key(shard.key()), c.cleaned().encode());
        }
    }

    private void stageTruncateEnd(LogCommand.TruncateEnd t, WriteBatch batch) throws RocksDBException {
        Shard shard = t.shard();
        if (shard.deleted() || t.offset() >= shard.nextOffset()) {
            return;
        }
        ShardChange change = change(shard);
        change.keepEpochs(shard);
        dropReferences(LogKeys.of(shard.key(), t.offset()), LogKeys.shardEnd(shard.key()));
        batch.deleteRange(store.logFamily(), LogKeys.of(shard.key(), t.offset()), LogKeys.shardEnd(shard.key()));
        batch.deleteRange(store.abortedTxnFamily(), AbortedTxn.key(shard.key(), t.offset()), LogKeys.shardEnd(shard.key()));
        shard.nextOffset(t.offset());
        change.sizeBytes -= t.droppedBytes();
        change.truncatedEnd = t.offset();
        Map<Long, ProducerEntry> current = new HashMap<>();
        for (Map.Entry<Long, ProducerEntry> e : shard.producers()) {
            current.put(e.getKey(), e.getValue());
        }
        current.putAll(change.producers);
        current.forEach((producerId, entry) -> {
            ProducerEntry kept = entry == null ? null : entry.truncatedTo(t.offset());
            if (kept != entry) {
                change.producers.put(producerId, kept);
            }
        });
        for (Map.Entry<Long, ProducerEntry> e : change.producers.entrySet()) {
            byte[] key = LogKeys.producer(shard.key(), e.getKey());
            if (e.getValue() == null) {
                batch.delete(store.producerFamily(), key);
            } else {
                batch.put(store.producerFamily(), key, e.getValue().encode());
            }
        }
        shard.epochs().truncateFromEnd(t.offset());
        batch.put(store.metaFamily(), EpochHistory.key(shard.key()), shard.epochs().encode());
        if (t.offset() < shard.cleanPoint().offset()) {
            change.cleanPoint = CleanPoint.NONE;
            batch.delete(store.metaFamily(), CleanPoint.key(shard.key()));
        }
    }

    private void stageReset(LogCommand.Reset r, WriteBatch batch) throws RocksDBException {
        Shard shard = r.shard();
        if (shard.deleted()) {
            return;
        }
        ShardChange change = change(shard);
        change.keepEpochs(shard);
        dropReferences(LogKeys.shardStart(shard.key()), LogKeys.shardEnd(shard.key()));
        batch.deleteRange(store.logFamily(), LogKeys.shardStart(shard.key()), LogKeys.shardEnd(shard.key()));
        batch.deleteRange(store.producerFamily(), LogKeys.shardStart(shard.key()), LogKeys.shardEnd(shard.key()));
        batch.deleteRange(store.abortedTxnFamily(), LogKeys.shardStart(shard.key()), LogKeys.shardEnd(shard.key()));
        batch.delete(store.metaFamily(), ShardRecovery.logStartKey(shard.key()));
        change.reset = true;
        batch.delete(store.metaFamily(), CleanPoint.key(shard.key()));
        change.cleanPoint = CleanPoint.NONE;
        for (Map.Entry<Long, ProducerEntry> e : shard.producers()) {
            change.producers.put(e.getKey(), null);
        }
        change.producers.replaceAll((id, entry) -> null);
        shard.nextOffset(r.offset());
        change.sizeBytes = 0;
        change.newLogStart = r.offset();
        change.truncatedEnd = 0;
        shard.epochs().clear();
        batch.put(store.metaFamily(), EpochHistory.key(shard.key()), shard.epochs().encode());
    }

    private ShardChange change(Shard shard) {
        return changes.computeIfAbsent(shard, ShardChange::new);
    }

    private AppendResult stageAppend(LogCommand.Append request, WriteBatch batch) throws RocksDBException {
        Shard shard = request.shard();
        if (shard.deleted()) {
            return AppendResult.failed(Errors.UNKNOWN_TOPIC_OR_PARTITION, "topic " + shard.topicPartition().topic() + " was deleted");
        }
        if (request.leaderEpoch() != LogCommand.Append.ANY_EPOCH && request.leaderEpoch() != shard.leaderEpoch()) {
            // the broker stopped leading (or led again in a later epoch) after it accepted this request: written now,
            // it would land after the follower's truncation to agree with the new leader
            return AppendResult.failed(Errors.NOT_LEADER_OR_FOLLOWER, shard + " left leader epoch " + request.leaderEpoch()
                    + " before this batch was written; refresh metadata and retry");
        }
        ShardChange change = change(shard);
        header.wrap(request.batch().nioBuffer(), 0);
        long producerId = header.producerId();
        ProducerEntry known = null;
        if (request.fromLeader()) {
            // beyond the end is fine: the leader compacted away the batches between (Kafka's followers accept gaps too)
            if (header.baseOffset() < shard.nextOffset() || shard.nextOffset() != request.expectedEnd() || header.baseOffset() < request.expectedEnd()) {
                return AppendResult.failed(Errors.OFFSET_OUT_OF_RANGE, "the leader's batch starts at " + header.baseOffset()
                        + " but " + shard + " ends at " + shard.nextOffset() + "; the follower re-synchronises");
            }
            known = producerId < 0 ? null
                    : change.producers.containsKey(producerId) ? change.producers.get(producerId) : shard.producer(producerId);
        } else if (producerId >= 0 && header.isControl()) {
            known = change.producers.containsKey(producerId) ? change.producers.get(producerId) : shard.producer(producerId);
            AppendResult refused = checkMarker(shard, producerId, known, header.producerEpoch(), TxnMarker.read(ByteBufUtil.getBytes(request.batch())));
            if (refused != null) {
                return refused;
            }
        } else if (producerId >= 0 && request.fromCoordinator()) {
            // a coordinator's own transactional write (TxnOffsetCommit): no sequences, only the epoch is checked
            known = change.producers.containsKey(producerId) ? change.producers.get(producerId) : shard.producer(producerId);
            if (known != null && header.producerEpoch() < known.epoch()) {
                return AppendResult.failed(Errors.INVALID_PRODUCER_EPOCH, "producer " + producerId + " epoch " + header.producerEpoch()
                        + " was fenced by epoch " + known.epoch() + " on " + shard);
            }
        } else if (producerId >= 0) {
            known = change.producers.containsKey(producerId) ? change.producers.get(producerId) : shard.producer(producerId);
            if (known != null && known.txnFirstOffset() != ProducerEntry.NONE && !header.isTransactional()
                    && header.producerEpoch() == known.epoch()) {
                return AppendResult.failed(Errors.INVALID_TXN_STATE, "producer " + producerId + " wrote a non-transactional batch to "
                        + shard + " while its transaction there is open (" + known + ")");
            }
            if (header.isTransactional() && request.verifiedLastTxnEnd() != LogCommand.Append.UNCHECKED
                    && (known == null || known.txnFirstOffset() == ProducerEntry.NONE)) {
                long lastEnd = known == null ? ProducerEntry.NONE : known.lastTxnEndOffset();
                if (request.verifiedLastTxnEnd() == TxnVerification.OPEN || request.verifiedLastTxnEnd() != lastEnd) {
                    return AppendResult.failed(Errors.INVALID_TXN_STATE, "Partition was not added to the transaction: producer "
                            + producerId + "'s transaction on " + shard + " ended after this batch was sent (KIP-890); abort and retry");
                }
            }
            SequenceCheck.Result check = SequenceCheck.check(known, header.producerEpoch(), header.baseSequence(), header.lastSequence());
            switch (check.outcome()) {
                case DUPLICATE:
                    return AppendResult.appended(check.duplicateBaseOffset(), shard.logStartOffset());
                case OLD_DUPLICATE:
                    return AppendResult.alreadyWritten(shard.nextOffset() - 1, shard.logStartOffset(),
                            check.reason() + " (producer " + producerId + " on " + shard + ")");
                case FENCED:
                case OUT_OF_ORDER:
                    return AppendResult.failed(check.error(), check.reason() + " (producer " + producerId + " on " + shard + ")");
                case APPEND:
                    break;
            }
        }
        long base = request.fromLeader() ? header.baseOffset() : shard.nextOffset();
        int epoch = request.fromLeader() ? header.partitionLeaderEpoch() : shard.leaderEpoch();
        if (!request.fromLeader()) {
            header.stamp(base, epoch);
        }
        if (shard.epochs().begin(epoch, base)) {
            batch.put(store.metaFamily(), EpochHistory.key(shard.key()), shard.epochs().encode());
        }
        batch.put(store.logFamily(), LogKeys.of(shard.key(), base), logValue(request.batch()));
        shard.nextOffset(base + header.lastOffsetDelta() + 1);
        change.sizeBytes += request.batch().readableBytes();
        if (producerId >= 0) {
            ProducerEntry updated;
            if (header.isControl()) {
                updated = ended(shard, change, producerId, known, base, ByteBufUtil.getBytes(request.batch()), batch);
            } else if (request.fromCoordinator()) {
                updated = known == null ? ProducerEntry.withoutBatches(header.producerEpoch(), header.maxTimestamp())
                        : known.inEpoch(header.producerEpoch());
                if (header.isTransactional() && updated.txnFirstOffset() == ProducerEntry.NONE) {
                    updated = updated.inTransaction(base);
                    change.firstTxnOpened = Math.min(change.firstTxnOpened, base);
                }
            } else {
                updated = known == null
                        ? ProducerEntry.first(header.producerEpoch(), header.baseSequence(), header.lastSequence(), base, header.lastOffsetDelta(), header.maxTimestamp())
                        : known.append(header.producerEpoch(), header.baseSequence(), header.lastSequence(), base, header.lastOffsetDelta(), header.maxTimestamp());
                if (header.isTransactional() && updated.txnFirstOffset() == ProducerEntry.NONE) {
                    updated = updated.inTransaction(base);
                    change.firstTxnOpened = Math.min(change.firstTxnOpened, base);
                }
            }
            change.producers.put(producerId, updated);
            batch.put(store.producerFamily(), LogKeys.producer(shard.key(), producerId), updated.encode());
        }
        return null;
    }

    /** Why a leader must not write this marker, or null: Kafka's checks of producer and coordinator epochs. */
    private static AppendResult checkMarker(Shard shard, long producerId, ProducerEntry known, short epoch, TxnMarker marker) {
        if (marker == null) {
            return AppendResult.failed(Errors.INVALID_RECORD, "a control batch for " + shard + " holds no transaction marker");
        }
        if (known == null) {
            return null;
        }
        if (epoch < known.epoch()) {
            return AppendResult.failed(Errors.INVALID_PRODUCER_EPOCH, "a marker of producer " + producerId + " in epoch " + epoch
                    + " came after epoch " + known.epoch() + " on " + shard);
        }
        if (marker.coordinatorEpoch() < known.coordinatorEpoch()) {
            return AppendResult.failed(Errors.TRANSACTION_COORDINATOR_FENCED, "a marker for producer " + producerId + " from coordinator epoch "
                    + marker.coordinatorEpoch() + " came after one from epoch " + known.coordinatorEpoch() + " on " + shard);
        }
        return null;
    }

    /** The producer after the marker at {@code base}; an abort that ends an open transaction goes into the aborted index. */
    private ProducerEntry ended(Shard shard, ShardChange change, long producerId, ProducerEntry known, long base, byte[] control,
                                WriteBatch batch) throws RocksDBException {
        TxnMarker marker = TxnMarker.read(control);
        short epoch = header.producerEpoch();
        long timestamp = header.maxTimestamp();
        ProducerEntry before = known != null ? known : ProducerEntry.withoutBatches(epoch, timestamp);
        long first = before.txnFirstOffset();
        if (marker != null && !marker.commit() && first != ProducerEntry.NONE) {
            long stable = Math.min(Math.min(shard.txnSpans().firstOpenExcept(first, base + 1), change.firstTxnOpened), base + 1);
            batch.put(store.abortedTxnFamily(), AbortedTxn.key(shard.key(), base), new AbortedTxn(producerId, first, base, stable).encode());
        }
        return before.ended(epoch, base, marker == null ? before.coordinatorEpoch() : marker.coordinatorEpoch(), timestamp);
    }

    private void publish(WrittenRound r, AppendResult.CommitTimes times) {
        r.truncatedEnds().forEach((shard, end) -> shard.tail().truncateFrom(end));
        r.cleaned().forEach((shard, change) -> {
            if (change.cleanPoint != null) {
                shard.cleanPoint(change.cleanPoint);
            }
            // the cache must stay a suffix of the log, so everything up to the last rewritten batch goes
            shard.tail().truncateBefore(change.compactedUpTo + 1);
        });
        r.newLogStarts().forEach((shard, start) -> {
            shard.logStartOffset(start);
            shard.tail().truncateBefore(start);
        });
        for (int i = 0; i < r.commands().size(); i++) {
            if (r.commands().get(i) instanceof LogCommand.Append a && r.results().get(i) == null && !a.shard().deleted()) {
                a.shard().tail().add(baseOffset(a.batch()), a.batch());
            }
        }
        // spans before ends: a transaction's batch must never be readable below a stable offset that ignores it
        r.txnSpans().forEach(Shard::unstable);
        r.txnViews().forEach(Shard::txnViews);
        r.ends().forEach(Shard::publish);
        for (int i = 0; i < r.commands().size(); i++) {
            LogCommand command = r.commands().get(i);
            if (command instanceof LogCommand.Append a) {
                AppendResult decided = r.results().get(i);
                if (decided == null) {
                    stats.appended(times.writeStartNanos() - a.queuedNanos(), times.writeEndNanos() - times.writeStartNanos(),
                            times.syncStartNanos() - times.writeEndNanos(), times.syncEndNanos() - times.syncStartNanos());
                }
                a.finish(decided != null ? decided : AppendResult.appended(baseOffset(a.batch()), a.shard().logStartOffset(), times));
            } else if (command instanceof LogCommand.Truncate t) {
                t.done().complete(null);
            } else if (command instanceof LogCommand.Compact c) {
                c.done().complete(true);
            } else if (command instanceof LogCommand.TruncateEnd t) {
                t.done().complete(null);
            } else if (command instanceof LogCommand.Reset reset) {
                reset.done().complete(null);
            } else if (command instanceof LogCommand.Drop d) {
                d.shards().forEach(shard -> shard.tail().clear());
                d.done().complete(null);
            } else if (command instanceof LogCommand.Relocate relocate) {
                relocate.done().complete(relocate.moved().get());
            }
        }
        r.ends().keySet().forEach(listener::committed);
    }

    private void rollBack(Exception cause) {
        if (store.dataFiles() != null) {
            store.dataFiles().abandonRound();
        }
        changes.forEach((shard, change) -> {
            shard.nextOffset(change.startOffset);
            if (change.epochsBefore != null) {
                shard.epochs().restore(change.epochsBefore);
            }
            shard.epochs().truncateFromEnd(change.startOffset);
        });
        String message = "the log could not be written (" + cause.getMessage() + "); retry, and check the data volume";
        log.error("group commit of {} commands failed, nothing was acknowledged: {}", round.size(), cause.toString());
        for (int i = 0; i < round.size(); i++) {
            LogCommand command = round.get(i);
            if (command instanceof LogCommand.Drop d) {
                d.shards().forEach(s -> s.markDeleted(false));
            }
            AppendResult decided = i < results.size() ? results.get(i) : null;
            // a duplicate may point at a batch of this very round, which is now lost: let the producer retry it
            boolean keep = decided != null && decided.error() != Errors.NONE && !decided.alreadyWritten();
            fail(command, keep ? decided : AppendResult.failed(Errors.KAFKA_STORAGE_ERROR, message), cause);
        }
    }

    private static void fail(LogCommand command, AppendResult appendResult, Exception cause) {
        if (command instanceof LogCommand.Append a) {
            a.finish(appendResult);
        } else if (command instanceof LogCommand.Truncate t) {
            t.done().completeExceptionally(cause);
        } else if (command instanceof LogCommand.Compact c) {
            c.done().completeExceptionally(cause);
        } else if (command instanceof LogCommand.TruncateEnd t) {
            t.done().completeExceptionally(cause);
        } else if (command instanceof LogCommand.Reset reset) {
            reset.done().completeExceptionally(cause);
        } else if (command instanceof LogCommand.Drop d) {
            d.done().completeExceptionally(cause);
        } else if (command instanceof LogCommand.Relocate r) {
            r.done().completeExceptionally(cause);
        }
    }

    /** Reads the stamped base offset; static and flyweight-free because both threads call it. */
    private static long baseOffset(ByteBuf batch) {
        return batch.getLong(batch.readerIndex() + BatchHeader.BASE_OFFSET);
    }

    private static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    @Override
    public void close() {
        queue.add(new LogCommand.Stop());
        try {
            thread.join(10_000);
            written.add(STOP_SYNCER);
            syncer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
