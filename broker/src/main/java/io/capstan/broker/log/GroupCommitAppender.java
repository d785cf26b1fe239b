package io.capstan.broker.log;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.apache.kafka.common.protocol.Errors;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single writer of the log. Drains every batch queued since the last round (across all shards), assigns
 * offsets, checks producer sequences, stamps offsets and leader epochs in place, and writes them with their producer
 * state in one RocksDB WriteBatch and one WAL sync. Only after that write succeeds are the high watermarks moved and
 * the producers answered; a failed write rolls the round back so nothing half-written is ever visible.
 */
public final class GroupCommitAppender implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GroupCommitAppender.class);
    private static final AppendRequest POISON = new AppendRequest(null, null, null);

    private final LogStore store;
    private final boolean syncEachRound;
    private final int maxBatchesPerRound;
    private final CommitListener listener;
    private final CommitStats stats;
    private final BlockingQueue<AppendRequest> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private final BatchHeader header = new BatchHeader();
    private final Map<Shard, Long> roundStart = new IdentityHashMap<>();
    private final Map<Shard, Map<Long, ProducerEntry>> roundProducers = new IdentityHashMap<>();
    private final List<AppendRequest> round = new ArrayList<>();
    private final List<AppendResult> results = new ArrayList<>();

    public GroupCommitAppender(LogStore store, boolean syncEachRound, int maxBatchesPerRound,
                               CommitListener listener, CommitStats stats) {
        this.store = store;
        this.syncEachRound = syncEachRound;
        this.maxBatchesPerRound = maxBatchesPerRound;
        this.listener = listener;
        this.stats = stats;
        this.thread = new Thread(this::run, "capstan-group-commit");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /** Queues a validated batch; the callback runs on the committer thread once it is durable or has failed. */
    public void append(Shard shard, byte[] batch, java.util.function.Consumer<AppendResult> callback) {
        queue.add(new AppendRequest(shard, batch, callback));
    }

    private void run() {
        try {
            while (true) {
                AppendRequest first = queue.take();
                if (first == POISON) {
                    return;
                }
                round.add(first);
                queue.drainTo(round, maxBatchesPerRound - 1);
                boolean stop = round.remove(POISON);
                commitRound();
                if (stop) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            AppendRequest left;
            while ((left = queue.poll()) != null) {
                if (left != POISON) {
                    left.callback().accept(AppendResult.failed(Errors.NOT_LEADER_OR_FOLLOWER, "broker is shutting down"));
                }
            }
        }
    }

    private void commitRound() {
        long bytes = 0;
        try (WriteBatch batch = new WriteBatch()) {
            for (AppendRequest request : round) {
                results.add(stage(request, batch));
                bytes += request.batch().length;
            }
            long start = System.nanoTime();
            if (batch.count() > 0) {
                store.write(batch, syncEachRound);
            }
            stats.round(round.size(), bytes, System.nanoTime() - start);
            publish();
        } catch (RocksDBException | RuntimeException e) {
            stats.failed();
            rollBack(e);
        } finally {
            round.clear();
            results.clear();
            roundStart.clear();
            roundProducers.clear();
        }
    }

    /** Decides one batch and adds it to the write; returns its result if it needs no write, else null. */
    private AppendResult stage(AppendRequest request, WriteBatch batch) throws RocksDBException {
        Shard shard = request.shard();
        if (shard.deleted()) {
            return AppendResult.failed(Errors.UNKNOWN_TOPIC_OR_PARTITION, "topic " + shard.topicPartition().topic() + " was deleted");
        }
        roundStart.putIfAbsent(shard, shard.nextOffset());
        ByteBuffer buffer = ByteBuffer.wrap(request.batch());
        header.wrap(buffer, 0);
        long producerId = header.producerId();
        Map<Long, ProducerEntry> pending = null;
        ProducerEntry known = null;
        if (producerId >= 0) {
            pending = roundProducers.computeIfAbsent(shard, s -> new HashMap<>());
            known = pending.containsKey(producerId) ? pending.get(producerId) : shard.producer(producerId);
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
        if (producerId >= 0) {
            ProducerEntry updated = known == null || known.epoch() != header.producerEpoch()
                    ? ProducerEntry.first(header.producerEpoch(), header.baseSequence(), header.lastSequence(), base, header.lastOffsetDelta(), header.maxTimestamp())
                    : known.append(header.producerEpoch(), header.baseSequence(), header.lastSequence(), base, header.lastOffsetDelta(), header.maxTimestamp());
            pending.put(producerId, updated);
            batch.put(store.producerFamily(), LogKeys.producer(shard.key(), producerId), updated.encode());
        }
        return null;
    }

    private void publish() {
        roundProducers.forEach((shard, entries) -> entries.forEach(shard::producer));
        for (int i = 0; i < round.size(); i++) {
            AppendRequest request = round.get(i);
            if (results.get(i) == null && !request.shard().deleted()) {
                request.shard().tail().add(header.wrap(ByteBuffer.wrap(request.batch()), 0).baseOffset(), request.batch());
            }
        }
        roundStart.keySet().forEach(shard -> shard.publish(shard.nextOffset()));
        for (int i = 0; i < round.size(); i++) {
            AppendRequest request = round.get(i);
            AppendResult result = results.get(i);
            if (result == null) {
                long base = header.wrap(ByteBuffer.wrap(request.batch()), 0).baseOffset();
                result = AppendResult.appended(base, request.shard().logStartOffset());
            }
            request.callback().accept(result);
        }
        roundStart.keySet().forEach(listener::committed);
    }

    private void rollBack(Exception cause) {
        roundStart.forEach(Shard::nextOffset);
        String message = "the log could not be written (" + cause.getMessage() + "); retry, and check the data volume";
        log.error("group commit of {} batches failed, nothing was acknowledged: {}", round.size(), cause.toString());
        for (int i = 0; i < round.size(); i++) {
            AppendResult decided = i < results.size() ? results.get(i) : null;
            // a duplicate may point at a batch of this very round, which is now lost: let the producer retry it
            boolean keep = decided != null && decided.error() != Errors.NONE;
            round.get(i).callback().accept(keep ? decided : AppendResult.failed(Errors.KAFKA_STORAGE_ERROR, message));
        }
    }

    @Override
    public void close() {
        queue.add(POISON);
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
