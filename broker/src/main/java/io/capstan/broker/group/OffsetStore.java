package io.capstan.broker.group;

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

    private final LogManager logs;
    private final Shard shard;
    private final Map<String, Map<TopicPartition, CommittedOffset>> offsets = new ConcurrentHashMap<>();

    public OffsetStore(LogManager logs) {
        this.logs = logs;
        if (logs.catalog().topic(TOPIC) == null) {
            logs.createTopic(TOPIC, 1, Map.of("retention.ms", "-1"));
        }
        this.shard = logs.catalog().shard(new TopicPartition(TOPIC, 0));
        long start = System.nanoTime();
        int records = replay();
        log.info("loaded committed offsets of {} groups from {} records in {} ms", offsets.size(), records,
                (System.nanoTime() - start) / 1_000_000);
    }

    private int replay() {
        long offset = shard.logStartOffset();
        int count = 0;
        List<byte[]> batches = new ArrayList<>();
        while (offset < shard.highWatermark()) {
            batches.clear();
            logs.reader().read(shard, offset, 8 << 20, true, batches);
            if (batches.isEmpty()) {
                break;
            }
            for (byte[] bytes : batches) {
                for (RecordBatch batch : MemoryRecords.readableRecords(ByteBuffer.wrap(bytes)).batches()) {
                    for (Record r : batch) {
                        if (r.offset() >= offset) {
                            apply(r);
                            count++;
                        }
                    }
                    offset = batch.nextOffset();
                }
            }
        }
        return count;
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

    /** Removes every committed offset of the group (DeleteGroups). */
    public CompletableFuture<Errors> delete(String group) {
        Map<TopicPartition, CommittedOffset> current = offsets.getOrDefault(group, Map.of());
        if (current.isEmpty()) {
            return CompletableFuture.completedFuture(Errors.NONE);
        }
        return write(group, Map.copyOf(current), true);
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
        logs.append(shard, batch, (AppendResult result) -> {
            if (result.error() == Errors.NONE) {
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
            done.complete(result.error());
        });
        return done;
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
