package io.capstan.broker.txn;

import io.capstan.broker.log.AppendResult;
import io.capstan.broker.log.BatchHeader;
import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import io.capstan.broker.log.ShardReplay;
import io.capstan.cluster.DaemonThreads;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transaction coordinator: the leader of the replicated shard {@value #TOPIC}-0 (as the group coordinator is of the
 * offsets shard, decision 0004). Every state change of a transactional id ({@link TxnTransitions}) is written to that
 * shard and answered once replicated; a decided transaction's markers are then delivered ({@link MarkerSender}) and its
 * completion written. A new leader loads the shard and finishes every transaction left decided but incomplete;
 * transactions open past their timeout are aborted. Decisions run on one thread, so a transactional id changes one
 * step at a time; a request for an id whose change is being written is answered CONCURRENT_TRANSACTIONS, which Kafka
 * clients retry.
 */
public final class TransactionCoordinator implements AutoCloseable {
    public static final String TOPIC = "__capstan_transactions";
    private static final Logger log = LoggerFactory.getLogger(TransactionCoordinator.class);

    /** How a durable write becomes replicated: completes once every in-sync replica has it. */
    public interface Replicated {
        CompletableFuture<Errors> await(Shard shard, long lastOffset);
    }

    /** transaction.max.timeout.ms and how often open transactions are checked against their timeout. */
    public record Settings(int maxTimeoutMs, long abortCheckIntervalMs) {}

    /** InitProducerId's answer. */
    public record InitResult(Errors error, long producerId, short producerEpoch, String message) {}

    private final LogManager logs;
    private final LongSupplier producerIds;
    private final Settings settings;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("capstan-txn-coordinator"));
    private volatile MarkerSender markers;
    private volatile Active active;

    /** One term as coordinator: the shard led in {@code epoch} (markers carry it as their coordinator epoch). */
    private static final class Active {
        final Shard shard;
        final int epoch;
        final Replicated replicated;
        final Map<String, TxnMetadata> txns = new ConcurrentHashMap<>();
        final Set<String> writing = new HashSet<>();
        volatile boolean stopped;
        /** Set on the coordinator thread once loaded; read by request threads as "coordinating". */
        volatile ScheduledFuture<?> timeouts;

        Active(Shard shard, int epoch, Replicated replicated) {
            this.shard = shard;
            this.epoch = epoch;
            this.replicated = replicated;
        }
    }

    public TransactionCoordinator(LogManager logs, LongSupplier producerIds, Settings settings) {
        this.logs = logs;
        this.producerIds = producerIds;
        this.settings = settings;
    }

    /** Set once at start: marker delivery needs the broker's replica and peer plumbing, built after this. */
    public void markers(MarkerSender sender) {
        this.markers = sender;
    }

    public ScheduledExecutorService executor() {
        return thread;
    }

    /** This broker now leads the transactions shard in {@code epoch}: load it, finish decided transactions, coordinate. */
    public synchronized void activate(Shard shard, int epoch, Replicated replicated) {
        deactivate();
        Active next = new Active(shard, epoch, replicated);
        active = next;
        thread.execute(() -> {
            long start = System.nanoTime();
            int records = replay(next);
            log.info("loaded {} transactional ids from {} records of {} in {} ms", next.txns.size(), records, shard,
                    (System.nanoTime() - start) / 1_000_000);
            for (TxnMetadata txn : next.txns.values()) {
                if (txn.state().preparing()) {
                    complete(next, txn);
                }
            }
            next.timeouts = thread.scheduleWithFixedDelay(() -> abortTimedOut(next), settings.abortCheckIntervalMs(),
                    settings.abortCheckIntervalMs(), TimeUnit.MILLISECONDS);
            synchronized (this) {
                notifyAll();
            }
        });
    }

    /** This broker no longer leads the shard: requests get NOT_COORDINATOR and send clients to the new leader. */
    public synchronized void deactivate() {
        Active old = active;
        active = null;
        if (old != null) {
            old.stopped = true;
            thread.execute(() -> {
                if (old.timeouts != null) {
                    old.timeouts.cancel(false);
                }
            });
        }
    }

    public boolean coordinating() {
        Active a = active;
        return a != null && a.timeouts != null;
    }

    public synchronized boolean awaitCoordinating(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!coordinating()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    public CompletableFuture<InitResult> initProducerId(String id, int timeoutMs, long expectedProducerId, short expectedEpoch) {
        CompletableFuture<InitResult> done = new CompletableFuture<>();
        onThread(id, done, error -> new InitResult(error, -1, (short) -1, null), a -> {
            TxnDecision decision = TxnTransitions.initProducerId(a.txns.get(id), id, timeoutMs, settings.maxTimeoutMs(),
                    expectedProducerId, expectedEpoch, System.currentTimeMillis(), producerIds);
            apply(a, id, decision, (error, txn) -> done.complete(error == Errors.NONE
                    ? new InitResult(error, txn.producerId(), txn.producerEpoch(), null)
                    : new InitResult(error, -1, (short) -1, reason(decision))));
        });
        return done;
    }

    public CompletableFuture<Errors> addPartitions(String id, long producerId, short epoch, Collection<TopicPartition> partitions) {
        CompletableFuture<Errors> done = new CompletableFuture<>();
        onThread(id, done, error -> error, a -> apply(a, id,
                TxnTransitions.addPartitions(a.txns.get(id), id, producerId, epoch, partitions, System.currentTimeMillis()),
                (error, txn) -> done.complete(error)));
        return done;
    }

    /** EndTxn's answer: the error, and the producer id and epoch the producer goes on with (transaction version 2). */
    public record EndResult(Errors error, long producerId, short producerEpoch) {}

    public CompletableFuture<Errors> endTxn(String id, long producerId, short epoch, boolean commit) {
        return endTxn(id, producerId, epoch, commit, false).thenApply(EndResult::error);
    }

    /** {@code v2}: transaction version 2 (EndTxn v5+), the epoch moves on at every end. */
    public CompletableFuture<EndResult> endTxn(String id, long producerId, short epoch, boolean commit, boolean v2) {
        CompletableFuture<EndResult> done = new CompletableFuture<>();
        onThread(id, done, error -> new EndResult(error, -1, (short) -1), a -> {
            long now = System.currentTimeMillis();
            TxnDecision decision = v2 ? TxnTransitions.endTxnV2(a.txns.get(id), id, producerId, epoch, commit, now, producerIds)
                    : TxnTransitions.endTxn(a.txns.get(id), id, producerId, epoch, commit, now);
            apply(a, id, decision, (error, txn) -> done.complete(error == Errors.NONE && txn != null
                    ? new EndResult(error, txn.producerIdAfterEnd(), txn.producerEpochAfterEnd()) : new EndResult(error, -1, (short) -1)));
        });
        return done;
    }

    /** KIP-890 part 1: is the partition in the producer's ongoing transaction ({@link TxnTransitions#verify})? */
    public CompletableFuture<Errors> verify(String id, long producerId, short epoch, TopicPartition partition) {
        CompletableFuture<Errors> done = new CompletableFuture<>();
        onThread(id, done, error -> error, a -> done.complete(TxnTransitions.verify(a.txns.get(id), id, producerId, epoch, partition)));
        return done;
    }

    /** The state of one transactional id, or null (this broker does not coordinate, or does not know it). */
    public TxnMetadata describe(String id) {
        Active a = active;
        return a == null ? null : a.txns.get(id);
    }

    public Collection<TxnMetadata> all() {
        Active a = active;
        return a == null ? List.of() : List.copyOf(a.txns.values());
    }

    /** Runs a decision on the coordinator thread unless this broker does not coordinate or the id is mid-change. */
    private <T> void onThread(String id, CompletableFuture<T> done, java.util.function.Function<Errors, T> refusal, Consumer<Active> decide) {
        thread.execute(() -> {
            Active a = active;
            if (a == null || a.stopped || a.timeouts == null) {
                done.complete(refusal.apply(a == null ? Errors.NOT_COORDINATOR : Errors.COORDINATOR_LOAD_IN_PROGRESS));
            } else if (a.writing.contains(id)) {
                done.complete(refusal.apply(Errors.CONCURRENT_TRANSACTIONS));
            } else {
                decide.accept(a);
            }
        });
    }

    private interface Answer {
        void answer(Errors error, TxnMetadata txn);
    }

    private void apply(Active a, String id, TxnDecision decision, Answer answer) {
        if (decision instanceof TxnDecision.Refuse r) {
            answer.answer(r.error(), null);
        } else if (decision instanceof TxnDecision.Unchanged u) {
            answer.answer(Errors.NONE, u.current());
        } else if (decision instanceof TxnDecision.Write w) {
            write(a, w.next(), error -> {
                answer.answer(error == Errors.NONE ? w.answer() : error, w.next());
                if (error == Errors.NONE && w.next().state().preparing()) {
                    complete(a, w.next());
                }
            });
        }
    }

    /** Writes {@code next} and, once replicated, makes it current; {@code then} runs on the coordinator thread. */
    private void write(Active a, TxnMetadata next, Consumer<Errors> then) {
        String id = next.transactionalId();
        a.writing.add(id);
        byte[] batch = record(id, next.encodeValue());
        int lastDelta = ByteBuffer.wrap(batch).getInt(BatchHeader.LAST_OFFSET_DELTA);
        logs.append(a.shard, batch, a.epoch, (AppendResult appended) -> {
            if (appended.error() != Errors.NONE) {
                thread.execute(() -> finishWrite(a, next, forClient(appended.error()), then));
                return;
            }
            a.replicated.await(a.shard, appended.baseOffset() + lastDelta)
                    .thenAccept(error -> thread.execute(() -> finishWrite(a, next, forClient(error), then)));
        });
    }

    private void finishWrite(Active a, TxnMetadata next, Errors error, Consumer<Errors> then) {
        a.writing.remove(next.transactionalId());
        if (error == Errors.NONE && !a.stopped) {
            a.txns.put(next.transactionalId(), next);
        }
        then.accept(a.stopped ? Errors.NOT_COORDINATOR : error);
    }

    /** Delivers a decided transaction's markers, then writes it complete (retried until written or coordination stops). */
    private void complete(Active a, TxnMetadata prepared) {
        markers.send(prepared, a.epoch, () -> !a.stopped).thenRun(() -> thread.execute(() -> writeCompleted(a, prepared)));
    }

    private void writeCompleted(Active a, TxnMetadata prepared) {
        if (a.stopped || a.txns.get(prepared.transactionalId()) != prepared) {
            return;
        }
        write(a, TxnTransitions.completed(prepared, System.currentTimeMillis()), error -> {
            if (error != Errors.NONE && !a.stopped) {
                log.info("writing the completion of '{}' failed ({}); retrying", prepared.transactionalId(), error);
                thread.schedule(() -> writeCompleted(a, prepared), MarkerSender.RETRY_MS, TimeUnit.MILLISECONDS);
            }
        });
    }

    private void abortTimedOut(Active a) {
        long now = System.currentTimeMillis();
        for (TxnMetadata txn : a.txns.values()) {
            TxnMetadata aborting = a.writing.contains(txn.transactionalId()) ? null : TxnTransitions.timedOut(txn, now);
            if (aborting != null) {
                log.info("aborting transaction of '{}' (producer {} epoch {}): open for longer than its {} ms timeout; its producer "
                        + "is fenced (epoch {})", txn.transactionalId(), txn.producerId(), txn.producerEpoch(), txn.timeoutMs(), aborting.producerEpoch());
                apply(a, txn.transactionalId(), new TxnDecision.Write(aborting, Errors.NONE), (error, t) -> { });
            }
        }
    }

    private int replay(Active a) {
        int[] count = {0};
        long start = a.shard.logStartOffset();
        ShardReplay.replay(logs, a.shard, (batch, bytes) -> {
            for (Record r : batch) {
                if (r.offset() >= start && r.hasKey()) {
                    String id = StandardCharsets.UTF_8.decode(r.key()).toString();
                    if (r.hasValue()) {
                        a.txns.put(id, TxnMetadata.decode(id, r.value()));
                    } else {
                        a.txns.remove(id);
                    }
                    count[0]++;
                }
            }
        });
        return count[0];
    }

    private static byte[] record(String id, byte[] value) {
        byte[] key = id.getBytes(StandardCharsets.UTF_8);
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(128 + key.length + value.length),
                Compression.NONE, TimestampType.CREATE_TIME, 0L);
        builder.append(System.currentTimeMillis(), key, value);
        ByteBuffer built = builder.build().buffer();
        byte[] batch = new byte[built.remaining()];
        built.get(batch);
        return batch;
    }

    /** Kafka's mapping of a failed transaction-log write to what the client sees (TransactionStateManager). */
    private static Errors forClient(Errors logError) {
        return switch (logError) {
            case NONE -> Errors.NONE;
            case NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH -> Errors.NOT_COORDINATOR;
            case MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE -> Errors.UNKNOWN_SERVER_ERROR;
            default -> Errors.COORDINATOR_NOT_AVAILABLE;
        };
    }

    private static String reason(TxnDecision decision) {
        return decision instanceof TxnDecision.Refuse r ? r.reason() : null;
    }

    @Override
    public void close() {
        deactivate();
        thread.shutdownNow();
    }
}
