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
 * rewritten at the end and everything before it truncated (log cleaning by rewrite).
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
        io.capstan.broker.log.ShardReplay.replay(logs, shard, (batch, bytes) -> {
            if (batch.isControlBatch()) {
                io.capstan.broker.log.TxnMarker marker = io.capstan.broker.log.TxnMarker.read(bytes);
                if (marker != null) {
                    transactionEnded(batch.producerId(), marker.commit());
                }
                return;
            }
            for (Record r : batch) {
                if (r.offset() < start) {
                    continue;
                }
                if (OffsetRecords.keyVersion(r.key()) == OffsetRecords.MEMBER_KEY) {
                    OffsetRecords.MemberKey key = OffsetRecords.decodeMemberKey(r.key());
                    applyMember(key.group(), key.memberId(), r.hasValue() ? bytes(r.value()) : null);
                } else if (batch.isTransactional()) {
                    OffsetRecords.Key key = OffsetRecords.decodeKey(r.key());
                    pending.computeIfAbsent(batch.producerId(), p -> new ConcurrentHashMap<>())
                            .computeIfAbsent(key.group(), g -> new ConcurrentHashMap<>())
                            .put(key.partition(), OffsetRecords.decodeValue(r.value()));
                } else {
                    apply(r);
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
            replicated.await(shard, appended.baseOffset() + lastDelta).thenAccept(error -> {
                Errors e = OffsetWriteErrors.forClient(error);
                if (e == Errors.NONE) {
                    records.forEach((member, value) -> applyMember(group, member, value));
                    maybeCompact();
                }
                done.complete(e);
            });
        });
        return done;
    }

    private void apply(Record r) {
        OffsetRecords.Key key = OffsetRecords.decodeKey(r.key());
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
            replicated.await(shard, appended.baseOffset() + lastDelta).thenAccept(error -> {
                if (error == Errors.NONE) {
                    pending.computeIfAbsent(producerId, p -> new ConcurrentHashMap<>())
                            .computeIfAbsent(group, g -> new ConcurrentHashMap<>()).putAll(commits);
                }
                done.complete(OffsetWriteErrors.forClient(error));
            });
        });
        return done;
    }

    /** The producer's transaction ended here (its marker is replicated): its pending offsets commit, or go. */
    public void transactionEnded(long producerId, boolean commit) {
        Map<String, Map<TopicPartition, CommittedOffset>> ended = pending.remove(producerId);
        if (ended != null && commit) {
            ended.forEach((group, commits) -> offsets.computeIfAbsent(group, g -> new ConcurrentHashMap<>()).putAll(commits));
        }
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
            replicated.await(shard, appended.baseOffset() + lastDelta)
                    .thenAccept(error -> applyCommitted(group, commits, tombstones, OffsetWriteErrors.forClient(error), done));
        });
        return done;
    }

    /** Once the commit is durable (and replicated, in a cluster) it becomes what OffsetFetch answers. */
    private void applyCommitted(String group, Map<TopicPartition, CommittedOffset> commits, boolean tombstones, Errors error,
                                CompletableFuture<Errors> done) {
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
            maybeCompact();
        }
        done.complete(error);
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
     * Writes the live offsets again at the end of the shard, then drops everything before them. A commit that raced
     * the copy is written once more after the copy is durable (commit callbacks run in log order, so by then every
     * earlier commit is applied), so replay always ends with the newest value. Returns the records rewritten.
     */
    public int compact() throws Exception {
        Map<OffsetRecords.Key, CommittedOffset> copy = new java.util.HashMap<>();
        offsets.forEach((g, m) -> m.forEach((tp, c) -> copy.put(new OffsetRecords.Key(g, tp), c)));
        Map<String, Map<String, byte[]>> memberCopy = new java.util.HashMap<>();
        members.forEach((g, m) -> memberCopy.put(g, new java.util.HashMap<>(m)));
        if (copy.isEmpty() && memberCopy.isEmpty()) {
            return 0;
        }
        long before = shard.sizeBytes();
        List<Map.Entry<OffsetRecords.Key, CommittedOffset>> entries = new ArrayList<>(copy.entrySet());
        long firstBase = -1;
        for (int i = 0; i < entries.size(); i += RECORDS_PER_BATCH) {
            long base = appendAndWait(entries.subList(i, Math.min(entries.size(), i + RECORDS_PER_BATCH)));
            firstBase = firstBase < 0 ? base : firstBase;
        }
        for (var group : memberCopy.entrySet()) {
            // a member written meanwhile was appended after its copy (one log, appended in order): replay ends with it
            long base = appendMembersAndWait(group.getKey(), group.getValue());
            firstBase = firstBase < 0 ? base : firstBase;
        }
        List<Map.Entry<OffsetRecords.Key, CommittedOffset>> fixUps = new ArrayList<>();
        copy.forEach((key, value) -> {
            CommittedOffset now = get(key.group(), key.partition());
            if (!value.equals(now)) {
                fixUps.add(new java.util.AbstractMap.SimpleEntry<>(key, now));
            }
        });
        if (!fixUps.isEmpty()) {
            appendAndWait(fixUps);
        }
        for (var group : memberCopy.entrySet()) {
            Map<String, byte[]> current = members.getOrDefault(group.getKey(), Map.of());
            Map<String, byte[]> changed = new java.util.HashMap<>();
            group.getValue().forEach((member, copied) -> {
                byte[] now = current.get(member);
                if (!java.util.Arrays.equals(now, copied)) {
                    changed.put(member, now); // removed or rewritten while copying: the copy must not be the last word
                }
            });
            if (!changed.isEmpty()) {
                appendMembersAndWait(group.getKey(), changed);
            }
        }
        // never past an open transaction's offsets: a new leader must find them pending when it replays
        logs.truncateBefore(shard, Math.min(firstBase, shard.lastStableOffset())).get(60, java.util.concurrent.TimeUnit.SECONDS);
        int memberCount = memberCopy.values().stream().mapToInt(Map::size).sum();
        log.info("compacted {}: {} live offsets and {} group members rewritten, {} bytes -> {} bytes", TOPIC, copy.size(), memberCount,
                before, shard.sizeBytes());
        return copy.size() + memberCount;
    }

    private long appendMembersAndWait(String group, Map<String, byte[]> records) throws Exception {
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(256 + records.size() * 512),
                Compression.NONE, TimestampType.CREATE_TIME, 0L);
        long now = System.currentTimeMillis();
        records.forEach((member, value) -> builder.append(now, OffsetRecords.memberKey(group, member), value));
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

    /** Appends one batch (a null value is a tombstone) and waits until it is durable; returns its base offset. */
    private long appendAndWait(List<Map.Entry<OffsetRecords.Key, CommittedOffset>> entries) throws Exception {
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(256 + entries.size() * 128),
                Compression.NONE, TimestampType.CREATE_TIME, 0L);
        long now = System.currentTimeMillis();
        for (Map.Entry<OffsetRecords.Key, CommittedOffset> e : entries) {
            builder.append(now, OffsetRecords.key(e.getKey().group(), e.getKey().partition()),
                    e.getValue() == null ? null : OffsetRecords.value(e.getValue()));
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
