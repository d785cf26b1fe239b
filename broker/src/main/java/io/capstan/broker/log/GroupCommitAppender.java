package io.capstan.broker.log;

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
 * The single writer of the log (see docs/decisions/0001). Drains every command queued since the last round across
 * all shards; for appends it assigns offsets, checks producer sequences and stamps offsets and leader epochs in
 * place; retention truncations and topic drops join the same write. One RocksDB WriteBatch and one WAL sync per
 * round. Only after the write succeeds do high watermarks move and callers hear back; a failed write rolls the
 * round back so nothing half-written is ever visible.
 */
public final class GroupCommitAppender implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GroupCommitAppender.class);

    private final LogStore store;
    private final boolean syncEachRound;
    private final int maxCommandsPerRound;
    private final CommitListener listener;
    private final CommitStats stats;
    private final BlockingQueue<LogCommand> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private final BatchHeader header = new BatchHeader();
    private final List<LogCommand> round = new ArrayList<>();
    private final List<AppendResult> results = new ArrayList<>();
    private final Map<Shard, ShardChange> changes = new IdentityHashMap<>();

    /** What one round does to one shard, applied to the shard only once the write is durable. */
    private static final class ShardChange {
        final long startOffset;
        long sizeBytes;
        long newLogStart = -1;
        final Map<Long, ProducerEntry> producers = new HashMap<>();

        ShardChange(Shard shard) {
            this.startOffset = shard.nextOffset();
            this.sizeBytes = shard.sizeBytes();
        }
    }

    public GroupCommitAppender(LogStore store, boolean syncEachRound, int maxCommandsPerRound,
                               CommitListener listener, CommitStats stats) {
        this.store = store;
        this.syncEachRound = syncEachRound;
        this.maxCommandsPerRound = maxCommandsPerRound;
        this.listener = listener;
        this.stats = stats;
        this.thread = new Thread(this::run, "capstan-group-commit");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /** Queues a validated batch; the callback runs on the committer thread once it is durable or has failed. */
    public void append(Shard shard, byte[] batch, Consumer<AppendResult> callback) {
        queue.add(new LogCommand.Append(shard, batch, callback));
    }

    CompletableFuture<Void> truncate(Shard shard, long newStart, long droppedBytes) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        queue.add(new LogCommand.Truncate(shard, newStart, droppedBytes, done));
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
                    commitRound();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            LogCommand left;
            while ((left = queue.poll()) != null) {
                fail(left, AppendResult.failed(Errors.NOT_LEADER_OR_FOLLOWER, "broker is shutting down"), new IllegalStateException("log closed"));
            }
        }
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
                    bytes += a.batch().length;
                }
            }
            for (Map.Entry<Shard, ShardChange> e : changes.entrySet()) {
                if (!e.getKey().deleted()) {
                    batch.put(store.metaFamily(), ShardRecovery.sizeKey(e.getKey().key()), longBytes(e.getValue().sizeBytes));
                }
            }
            long start = System.nanoTime();
            store.write(batch, syncEachRound);
            stats.round(round.size(), bytes, System.nanoTime() - start);
            publish();
        } catch (RocksDBException | RuntimeException e) {
            stats.failed();
            rollBack(e);
        } finally {
            round.clear();
            results.clear();
            changes.clear();
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
                batch.deleteRange(store.logFamily(), LogKeys.shardStart(t.shard().key()), LogKeys.of(t.shard().key(), t.newStart()));
                change.newLogStart = t.newStart();
                change.sizeBytes -= t.droppedBytes();
            }
            return null;
        }
        if (command instanceof LogCommand.Drop d) {
            batch.delete(store.metaFamily(), d.metaKey());
            for (Shard shard : d.shards()) {
                shard.markDeleted(true);
                batch.deleteRange(store.logFamily(), LogKeys.shardStart(shard.key()), LogKeys.shardEnd(shard.key()));
                batch.deleteRange(store.producerFamily(), LogKeys.shardStart(shard.key()), LogKeys.shardEnd(shard.key()));
                batch.delete(store.metaFamily(), ShardRecovery.sizeKey(shard.key()));
            }
            return null;
        }
        throw new IllegalStateException("stop is handled by the loop");
    }

    private ShardChange change(Shard shard) {
        return changes.computeIfAbsent(shard, ShardChange::new);
    }

    private AppendResult stageAppend(LogCommand.Append request, WriteBatch batch) throws RocksDBException {
        Shard shard = request.shard();
        if (shard.deleted()) {
            return AppendResult.failed(Errors.UNKNOWN_TOPIC_OR_PARTITION, "topic " + shard.topicPartition().topic() + " was deleted");
        }
        ShardChange change = change(shard);
        header.wrap(ByteBuffer.wrap(request.batch()), 0);
        long producerId = header.producerId();
        ProducerEntry known = null;
        if (producerId >= 0) {
            known = change.producers.containsKey(producerId) ? change.producers.get(producerId) : shard.producer(producerId);
            SequenceCheck.Result check = SequenceCheck.check(known, header.producerEpoch(), header.baseSequence(), header.lastSequence());
            switch (check.outcome()) {
                case DUPLICATE:
                    return AppendResult.appended(check.duplicateBaseOffset(), shard.logStartOffset());
                case FENCED:
                case OUT_OF_ORDER:
                    return AppendResult.failed(check.error(), check.reason() + " (producer " + producerId + " on " + shard + ")");
                case APPEND:
                    break;
            }
        }
        long base = shard.nextOffset();
        header.stamp(base, shard.leaderEpoch());
        batch.put(store.logFamily(), LogKeys.of(shard.key(), base), request.batch());
        shard.nextOffset(base + header.lastOffsetDelta() + 1);
        change.sizeBytes += request.batch().length;
        if (producerId >= 0) {
            ProducerEntry updated = known == null || known.epoch() != header.producerEpoch()
                    ? ProducerEntry.first(header.producerEpoch(), header.baseSequence(), header.lastSequence(), base, header.lastOffsetDelta(), header.maxTimestamp())
                    : known.append(header.producerEpoch(), header.baseSequence(), header.lastSequence(), base, header.lastOffsetDelta(), header.maxTimestamp());
            change.producers.put(producerId, updated);
            batch.put(store.producerFamily(), LogKeys.producer(shard.key(), producerId), updated.encode());
        }
        return null;
    }

    private void publish() {
        changes.forEach((shard, change) -> {
            change.producers.forEach(shard::producer);
            shard.sizeBytes(change.sizeBytes);
            if (change.newLogStart >= 0) {
                shard.logStartOffset(change.newLogStart);
                shard.tail().truncateBefore(change.newLogStart);
            }
        });
        for (int i = 0; i < round.size(); i++) {
            if (round.get(i) instanceof LogCommand.Append a && results.get(i) == null && !a.shard().deleted()) {
                a.shard().tail().add(baseOffset(a.batch()), a.batch());
            }
        }
        changes.keySet().forEach(shard -> shard.publish(shard.nextOffset()));
        for (int i = 0; i < round.size(); i++) {
            LogCommand command = round.get(i);
            if (command instanceof LogCommand.Append a) {
                a.callback().accept(results.get(i) != null ? results.get(i)
                        : AppendResult.appended(baseOffset(a.batch()), a.shard().logStartOffset()));
            } else if (command instanceof LogCommand.Truncate t) {
                t.done().complete(null);
            } else if (command instanceof LogCommand.Drop d) {
                d.done().complete(null);
            }
        }
        changes.keySet().forEach(listener::committed);
    }

    private void rollBack(Exception cause) {
        changes.forEach((shard, change) -> shard.nextOffset(change.startOffset));
        String message = "the log could not be written (" + cause.getMessage() + "); retry, and check the data volume";
        log.error("group commit of {} commands failed, nothing was acknowledged: {}", round.size(), cause.toString());
        for (int i = 0; i < round.size(); i++) {
            LogCommand command = round.get(i);
            if (command instanceof LogCommand.Drop d) {
                d.shards().forEach(s -> s.markDeleted(false));
            }
            AppendResult decided = i < results.size() ? results.get(i) : null;
            // a duplicate may point at a batch of this very round, which is now lost: let the producer retry it
            boolean keep = decided != null && decided.error() != Errors.NONE;
            fail(command, keep ? decided : AppendResult.failed(Errors.KAFKA_STORAGE_ERROR, message), cause);
        }
    }

    private static void fail(LogCommand command, AppendResult appendResult, Exception cause) {
        if (command instanceof LogCommand.Append a) {
            a.callback().accept(appendResult);
        } else if (command instanceof LogCommand.Truncate t) {
            t.done().completeExceptionally(cause);
        } else if (command instanceof LogCommand.Drop d) {
            d.done().completeExceptionally(cause);
        }
    }

    private long baseOffset(byte[] batch) {
        return header.wrap(ByteBuffer.wrap(batch), 0).baseOffset();
    }

    private static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    @Override
    public void close() {
        queue.add(new LogCommand.Stop());
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
