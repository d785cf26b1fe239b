package io.capstan.broker.group;

import io.capstan.cluster.DaemonThreads;
import io.capstan.broker.log.AppendResult;
import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Committed offsets of every group, held in memory and made durable as records of an internal shard that goes
 * through the same group-committed, fsynced log as user data. A commit is visible (and answered) only once its
 * records are durable; on start the store replays the shard. When the shard outgrows its live data, the live set is
 * rewritten at the end and everything before it truncated (log cleaning by rewrite; see {@link #compact()}).
 */
public final class OffsetStore {
    public static final String TOPIC = "__capstan_offsets";
    private static final Logger log = LoggerFactory.getLogger(OffsetStore.class);

    private static final int RECORDS_PER_BATCH = 500;

    private final LogManager logs;
    private final Shard shard;
    private final long compactionBytes;
    private final java.util.concurrent.atomic.AtomicBoolean compacting = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.ExecutorService compactor = java.util.concurrent.Executors.newSingleThreadExecutor(DaemonThreads.named("capstan-offsets-compaction"));
    private final Map<String, Map<TopicPartition, CommittedOffset>> offsets = new ConcurrentHashMap<>();
    /** Consumer-protocol group members, as last made durable: group to member id to record. */
    private final Map<String, Map<String, byte[]>> members = new ConcurrentHashMap<>();
    /** TxnOffsetCommits by producer id, durable but waiting for their transaction's marker (KIP-98). */
    private final Map<Long, Map<String, Map<TopicPartition, CommittedOffset>>> pending = new ConcurrentHashMap<>();
    /** Where each producer's pending TxnOffsetCommits begin in the log: compaction must keep them. */
    private final Map<Long, Long> pendingFrom = new ConcurrentHashMap<>();
    /** Base offsets of writes in the log whose effect on the maps above is still to come (waiting for replication). */
    private final java.util.concurrent.ConcurrentSkipListSet<Long> unapplied = new java.util.concurrent.ConcurrentSkipListSet<>();
    /** While a compaction takes its copy: the lowest base offset of a write logged meanwhile. */
    private volatile java.util.concurrent.atomic.AtomicLong loggedWhileCopying;

    /** How a durable commit becomes replicated: completes once every in-sync replica has it. */
    public interface Replicated {
        CompletableFuture<Errors> await(Shard shard, long lastOffset);
    }

    private final Replicated replicated;
    private final int epoch;

    /**
     * The leader of a replicated offsets shard in {@code epoch}: loads what its log holds and answers commits once
     * replicated. Every append names the epoch, so one still queued when the shard moves to another leader is refused
     * by the log (NOT_COORDINATOR to the client) instead of landing in a follower's log beside the new leader's records.
     */
    public OffsetStore(LogManager logs, Shard shard, int epoch, long compactionBytes, Replicated replicated) {
        this.logs = logs;
        this.epoch = epoch;
        this.compactionBytes = compactionBytes;
        this.replicated = replicated;
        this.shard = shard;
        long start = System.nanoTime();
        int records = replay();
        log.info("loaded committed offsets of {} groups from {} records in {} ms", offsets.size(), records,
                (System.nanoTime() - start) / 1_000_000);
    }

    private int replay() {
        int[] count = {0};
        long start = shard.logStartOffset();
        LatestWrites latest = new LatestWrites();
        io.capstan.broker.log.ShardReplay.replay(logs, shard, (batch, bytes) -> {
            if (batch.isControlBatch()) {
                io.capstan.broker.log.TxnMarker marker = io.capstan.broker.log.TxnMarker.read(bytes);
                if (marker != null) {
                    transactionEnded(batch.producerId(), marker.commit(),
                            (group, tp) -> latest.decides(new OffsetRecords.Key(group, tp), batch.baseOffset()));
                }
                return;
            }
            for (Record r : batch) {
                if (r.offset() < start) {
                    continue;
                }
                long writtenAt = OffsetRecords.writtenAt(r);
                if (OffsetRecords.keyVersion(r.key()) == OffsetRecords.MEMBER_KEY) {
                    OffsetRecords.MemberKey key = OffsetRecords.decodeMemberKey(r.key());
                    if (latest.decides(key, writtenAt)) {
                        applyMember(key.group(), key.memberId(), r.hasValue() ? bytes(r.value()) : null);
                    }
                } else if (batch.isTransactional()) {
                    OffsetRecords.Key key = OffsetRecords.decodeKey(r.key());
                    pending.computeIfAbsent(batch.producerId(), p -> new ConcurrentHashMap<>())
                            .computeIfAbsent(key.group(), g -> new ConcurrentHashMap<>())
                            .put(key.partition(), OffsetRecords.decodeValue(r.value()));
                    pendingFrom.merge(batch.producerId(), batch.baseOffset(), Math::min);
                } else {
                    OffsetRecords.Key key = OffsetRecords.decodeKey(r.key());
                    if (latest.decides(key, writtenAt)) {
                        apply(key, r);
                    }
                }
                count[0]++;
            }
        });
        return count[0];
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private void applyMember(String group, String memberId, byte[] value) {
        if (value != null) {
            members.computeIfAbsent(group, g -> new ConcurrentHashMap<>()).put(memberId, value);
        } else {
            Map<String, byte[]> m = members.get(group);
            if (m != null) {
                m.remove(memberId);
                if (m.isEmpty()) {
                    members.remove(group);
                }
            }
        }
    }

    /** Consumer-protocol members as last made durable, per group (what a new coordinator resumes from). */
    public Map<String, Map<String, byte[]>> members() {
        return members;
    }

    /**
     * Makes a consumer-protocol group's member changes durable (a null record removes the member) in one batch, appended
     * now so the log keeps the order the group decided them in; completes once replicated.
     */
    public CompletableFuture<Errors> writeMembers(String group, Map<String, byte[]> records) {
        CompletableFuture<Errors> done = new CompletableFuture<>();
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(256 + records.size() * 512),
                Compression.NONE, TimestampType.CREATE_TIME, 0L);
        long now = System.currentTimeMillis();
        records.forEach((member, value) -> builder.append(now, OffsetRecords.memberKey(group, member), value));
        ByteBuffer built = builder.build().buffer();
        byte[] batch = new byte[built.remaining()];
        built.get(batch);
        int lastDelta = ByteBuffer.wrap(batch).getInt(io.capstan.broker.log.BatchHeader.LAST_OFFSET_DELTA);
        logs.append(shard, batch, epoch, (AppendResult appended) -> {
            if (appended.error() != Errors.NONE) {
                done.complete(OffsetWriteErrors.forClient(appended.error()));
                return;
            }
            logged(appended.baseOffset());
            replicated.await(shard, appended.baseOffset() + lastDelta).thenAccept(error -> {
                Errors e = OffsetWriteErrors.forClient(error);
                if (e == Errors.NONE) {
                    records.forEach((member, value) -> applyMember(group, member, value));
                }
                applied(appended.baseOffset());
                maybeCompact();
                done.complete(e);
            });
        });
        return done;
    }

    /** A write is in the log: until {@link #applied} its effect is missing from what compaction would copy. */
    private void logged(long baseOffset) {
        unapplied.add(baseOffset);
        java.util.concurrent.atomic.AtomicLong copying = loggedWhileCopying; // read after the add: see compact()
        if (copying != null) {
            copying.accumulateAndGet(baseOffset, Math::min);
        }
    }

    /** The write at this base offset has had its effect (or failed, and will have none until a replay). */
    private void applied(long baseOffset) {
        unapplied.remove(baseOffset);
    }

    private void apply(OffsetRecords.Key key, Record r) {
        if (r.hasValue()) {
            offsets.computeIfAbsent(key.group(), g -> new ConcurrentHashMap<>()).put(key.partition(), OffsetRecords.decodeValue(r.value()));
        } else {
            Map<TopicPartition, CommittedOffset> group = offsets.get(key.group());
            if (group != null) {
                group.remove(key.partition());
                if (group.isEmpty()) {
                    offsets.remove(key.group());
                }
            }
        }
    }

    /** Makes the commits durable, then visible; completes with the error for the whole request (NONE on success). */
    public CompletableFuture<Errors> commit(String group, Map<TopicPartition, CommittedOffset> commits) {
        return write(group, commits, false);
    }

    /**
     * TxnOffsetCommit: the offsets are written as part of the producer's transaction (a transactional batch in its epoch,
     * fenced by the log if a newer epoch wrote here) and become committed only when its COMMIT marker arrives here.
     */
    public CompletableFuture<Errors> commitTransactional(String group, long producerId, short producerEpoch,
                                                         Map<TopicPartition, CommittedOffset> commits) {
        CompletableFuture<Errors> done = new CompletableFuture<>();
        if (commits.isEmpty()) {
            done.complete(Errors.NONE);
            return done;
        }
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(256 + commits.size() * 128), RecordBatch.CURRENT_MAGIC_VALUE,
                Compression.NONE, TimestampType.CREATE_TIME, 0L, RecordBatch.NO_TIMESTAMP, producerId, producerEpoch,
                0, true, RecordBatch.NO_PARTITION_LEADER_EPOCH);
        long now = System.currentTimeMillis();
        commits.forEach((tp, c) -> builder.append(now, OffsetRecords.key(group, tp), OffsetRecords.value(c)));
        ByteBuffer built = builder.build().buffer();
        byte[] batch = new byte[built.remaining()];
        built.get(batch);
        int lastDelta = ByteBuffer.wrap(batch).getInt(io.capstan.broker.log.BatchHeader.LAST_OFFSET_DELTA);
        logs.appendAsCoordinator(shard, batch, epoch, (AppendResult appended) -> {
            if (appended.error() != Errors.NONE) {
                done.complete(appended.error() == Errors.INVALID_PRODUCER_EPOCH ? Errors.PRODUCER_FENCED : OffsetWriteErrors.forClient(appended.error()));
                return;
            }
            logged(appended.baseOffset());
            replicated.await(shard, appended.baseOffset() + lastDelta).thenAccept(error -> {
                if (error == Errors.NONE) {
                    pending.computeIfAbsent(producerId, p -> new ConcurrentHashMap<>())
                            .computeIfAbsent(group, g -> new ConcurrentHashMap<>()).putAll(commits);
                    pendingFrom.merge(producerId, appended.baseOffset(), Math::min);
                }
                applied(appended.baseOffset());
                done.complete(OffsetWriteErrors.forClient(error));
            });
        });
        return done;
    }

    /**
     * A transaction marker was appended to this shard at {@code offset}: once it is replicated the producer's pending
     * offsets commit, or go. Completes with the replication's outcome after that.
     */
    public CompletableFuture<Errors> markerAppended(long producerId, boolean commit, long offset, CompletableFuture<Errors> replication) {
        logged(offset);
        return replication.thenApply(error -> {
            if (error == Errors.NONE) {
                transactionEnded(producerId, commit, (group, tp) -> true);
            }
            applied(offset);
            return error;
        });
    }

    /** Commits the producer's pending offsets that {@code decides} lets through (all, but in a replay), or drops them. */
    private void transactionEnded(long producerId, boolean commit, java.util.function.BiPredicate<String, TopicPartition> decides) {
        Map<String, Map<TopicPartition, CommittedOffset>> ended = pending.get(producerId);
        if (ended != null && commit) {
            ended.forEach((group, commits) -> commits.forEach((tp, c) -> {
                if (decides.test(group, tp)) {
                    offsets.computeIfAbsent(group, g -> new ConcurrentHashMap<>()).put(tp, c);
                }
            }));
        }
        // gone from pending only once committed: a compaction's copy sees them in one place or the other
        pending.remove(producerId);
        pendingFrom.remove(producerId);
    }

    /** True while a transaction holds an offset of this group and partition that is not decided yet (KIP-447's require_stable). */
    public boolean pendingFor(String group, TopicPartition tp) {
        for (Map<String, Map<TopicPartition, CommittedOffset>> byGroup : pending.values()) {
            Map<TopicPartition, CommittedOffset> commits = byGroup.get(group);
            if (commits != null && commits.containsKey(tp)) {
                return true;
            }
        }
        return false;
    }

    /** Removes every committed offset of the group (DeleteGroups). */
    public CompletableFuture<Errors> delete(String group) {
        Map<TopicPartition, CommittedOffset> current = offsets.getOrDefault(group, Map.of());
        if (current.isEmpty()) {
            return CompletableFuture.completedFuture(Errors.NONE);
        }
        return write(group, Map.copyOf(current), true);
    }

    /** Removes the group's committed offsets of these partitions (OffsetDelete); partitions without one are left alone. */
    public CompletableFuture<Errors> delete(String group, Set<TopicPartition> partitions) {
        Map<TopicPartition, CommittedOffset> current = offsets.getOrDefault(group, Map.of());
        Map<TopicPartition, CommittedOffset> gone = new java.util.HashMap<>();
        for (TopicPartition tp : partitions) {
            CommittedOffset c = current.get(tp);
            if (c != null) {
                gone.put(tp, c);
            }
        }
        return write(group, gone, true);
    }

    private CompletableFuture<Errors> write(String group, Map<TopicPartition, CommittedOffset> commits, boolean tombstones) {
        CompletableFuture<Errors> done = new CompletableFuture<>();
        if (commits.isEmpty()) {
            done.complete(Errors.NONE);
            return done;
        }
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(256 + commits.size() * 128),
                Compression.NONE, TimestampType.CREATE_TIME, 0L);
        long now = System.currentTimeMillis();
        commits.forEach((tp, c) -> builder.append(now, OffsetRecords.key(group, tp), tombstones ? null : OffsetRecords.value(c)));
        ByteBuffer built = builder.build().buffer();
        byte[] batch = new byte[built.remaining()];
        built.get(batch);
        int lastDelta = ByteBuffer.wrap(batch).getInt(io.capstan.broker.log.BatchHeader.LAST_OFFSET_DELTA);
        logs.append(shard, batch, epoch, (AppendResult appended) -> {
            if (appended.error() != Errors.NONE) {
                done.complete(OffsetWriteErrors.forClient(appended.error()));
                return;
            }
            logged(appended.baseOffset());
            replicated.await(shard, appended.baseOffset() + lastDelta).thenAccept(error -> {
                applyCommitted(group, commits, tombstones, OffsetWriteErrors.forClient(error));
                applied(appended.baseOffset());
                maybeCompact();
                done.complete(OffsetWriteErrors.forClient(error));
            });
        });
        return done;
    }

    /** Once the commit is durable (and replicated, in a cluster) it becomes what OffsetFetch answers. */
    private void applyCommitted(String group, Map<TopicPartition, CommittedOffset> commits, boolean tombstones, Errors error) {
        if (error == Errors.NONE) {
            if (tombstones) {
                Map<TopicPartition, CommittedOffset> current = offsets.get(group);
                if (current != null) {
                    commits.keySet().forEach(current::remove);
                    if (current.isEmpty()) {
                        offsets.remove(group);
                    }
                }
            } else {
                offsets.computeIfAbsent(group, g -> new ConcurrentHashMap<>()).putAll(commits);
            }
        }
    }

    private void maybeCompact() {
        if (shard.sizeBytes() > compactionBytes && compacting.compareAndSet(false, true)) {
            compactor.execute(() -> {
                try {
                    compact();
                } catch (Exception e) {
                    log.warn("compaction of {} failed, will retry after the next commit: {}", TOPIC, e.toString());
                } finally {
                    compacting.set(false);
                }
            });
        }
    }

    /**
     * Writes the live offsets and members again at the end of the shard, then drops the log below them.
     *
     * <p>Commits keep arriving meanwhile, and a commit is applied to the maps only once replicated, so the copy can miss
     * writes already in the log before it, and would undo them in a replay were it read as one more write. So the copy
     * states where it stands: every record carries the offset {@code below} which the log's writes are all in it (its
     * {@link OffsetRecords#COMPACTED_BELOW} header), and replay lets a write at or above that offset win over the copy
     * ({@link LatestWrites}). The log is truncated no further than that offset, so every write the copy misses stays.
     */
    public int compact() throws Exception {
        java.util.concurrent.atomic.AtomicLong loggedMeanwhile = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
        loggedWhileCopying = loggedMeanwhile;
        long end;
        long below;
        Map<OffsetRecords.Key, CommittedOffset> copy = new java.util.HashMap<>();
        Map<String, Map<String, byte[]>> memberCopy = new java.util.HashMap<>();
        try {
            end = shard.logEnd();
            // a no-op through the log's queue: callbacks run in log order, so once it is done every write below `end`
            // has been logged here (in unapplied, or in loggedMeanwhile once watched), or applied
            logs.truncateBefore(shard, shard.logStartOffset()).get(60, java.util.concurrent.TimeUnit.SECONDS);
            below = Math.min(end, Math.min(lowest(unapplied), lowest(pendingFrom.values())));
            offsets.forEach((g, m) -> m.forEach((tp, c) -> copy.put(new OffsetRecords.Key(g, tp), c)));
            members.forEach((g, m) -> memberCopy.put(g, new java.util.HashMap<>(m)));
            below = Math.min(below, loggedMeanwhile.get());
        } finally {
            loggedWhileCopying = null;
        }
        // never past an open transaction's offsets: a new leader must find them pending when it replays
        long newStart = Math.min(below, shard.lastStableOffset());
        if (newStart <= shard.logStartOffset()) {
            return 0; // a write still waiting holds the log where it is: nothing to gain yet
        }
        long before = shard.sizeBytes();
        List<Map.Entry<OffsetRecords.Key, CommittedOffset>> entries = new ArrayList<>(copy.entrySet());
        org.apache.kafka.common.header.Header[] stands = OffsetRecords.compactedBelow(below);
        for (int i = 0; i < entries.size(); i += RECORDS_PER_BATCH) {
            appendAndWait(entries.subList(i, Math.min(entries.size(), i + RECORDS_PER_BATCH)), stands);
        }
        for (var group : memberCopy.entrySet()) {
            appendMembersAndWait(group.getKey(), group.getValue(), stands);
        }
        logs.truncateBefore(shard, newStart).get(60, java.util.concurrent.TimeUnit.SECONDS);
        int memberCount = memberCopy.values().stream().mapToInt(Map::size).sum();
        log.info("compacted {}: {} live offsets and {} group members rewritten as of offset {}, {} bytes -> {} bytes", TOPIC,
                copy.size(), memberCount, below, before, shard.sizeBytes());
        return copy.size() + memberCount;
    }

    private static long lowest(java.util.Collection<Long> offsets) {
        long lowest = Long.MAX_VALUE;
        for (long offset : offsets) {
            lowest = Math.min(lowest, offset);
        }
        return lowest;
    }

    private long appendMembersAndWait(String group, Map<String, byte[]> records, org.apache.kafka.common.header.Header[] headers) throws Exception {
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(256 + records.size() * 512),
                Compression.NONE, TimestampType.CREATE_TIME, 0L);
        long now = System.currentTimeMillis();
        records.forEach((member, value) -> builder.append(now, OffsetRecords.memberKey(group, member), value, headers));
        return appendBuiltAndWait(builder);
    }

    private long appendBuiltAndWait(MemoryRecordsBuilder builder) throws Exception {
        ByteBuffer built = builder.build().buffer();
        byte[] batch = new byte[built.remaining()];
        built.get(batch);
        CompletableFuture<AppendResult> done = new CompletableFuture<>();
        logs.append(shard, batch, epoch, done::complete);
        AppendResult result = done.get(60, java.util.concurrent.TimeUnit.SECONDS);
        if (result.error() != Errors.NONE) {
            throw new IllegalStateException("cannot rewrite " + TOPIC + ": " + result.error() + " " + result.message());
        }
        return result.baseOffset();
    }

    /** Appends one batch and waits until it is durable; returns its base offset. */
    private long appendAndWait(List<Map.Entry<OffsetRecords.Key, CommittedOffset>> entries, org.apache.kafka.common.header.Header[] headers) throws Exception {
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(256 + entries.size() * 128),
                Compression.NONE, TimestampType.CREATE_TIME, 0L);
        long now = System.currentTimeMillis();
        for (Map.Entry<OffsetRecords.Key, CommittedOffset> e : entries) {
            builder.append(now, OffsetRecords.key(e.getKey().group(), e.getKey().partition()), OffsetRecords.value(e.getValue()), headers);
        }
        return appendBuiltAndWait(builder);
    }

    public void close() {
        compactor.shutdownNow();
    }

    public CommittedOffset get(String group, TopicPartition tp) {
        Map<TopicPartition, CommittedOffset> g = offsets.get(group);
        return g == null ? null : g.get(tp);
    }

    public Map<TopicPartition, CommittedOffset> all(String group) {
        return Map.copyOf(offsets.getOrDefault(group, Map.of()));
    }

    public Set<String> groups() {
        return Set.copyOf(offsets.keySet());
    }
}
