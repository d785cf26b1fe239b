package io.capstan.broker.log;

import io.capstan.config.BrokerConfig;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.rocksdb.RocksIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * For topics whose cleanup.policy includes delete: drops a shard's oldest batches once they are older than retention.ms or the shard is over retention.bytes, with one
 * DeleteRange. The newest batch is always kept so the log end offset survives a restart, as Kafka keeps its active
 * segment.
 */
final class RetentionCleaner {
    private static final Logger log = LoggerFactory.getLogger(RetentionCleaner.class);

    private final LogStore store;
    private final TopicCatalog catalog;
    private final GroupCommitAppender appender;
    /** The broker's defaults as they are now (retention.ms and the others are dynamic broker configs). */
    private final Supplier<BrokerConfig> defaults;

    RetentionCleaner(LogStore store, TopicCatalog catalog, GroupCommitAppender appender, Supplier<BrokerConfig> defaults) {
        this.defaults = defaults;
        this.store = store;
        this.catalog = catalog;
        this.appender = appender;
    }

    void runOnce(long nowMs) {
        for (Shard shard : catalog.shards()) {
            try {
                clean(shard, nowMs);
            } catch (Exception e) {
                log.warn("retention of {} failed, will retry next round: {}", shard, e.toString());
            }
        }
    }

    private void clean(Shard shard, long nowMs) throws Exception {
        TopicMeta topic = catalog.topic(shard.topicPartition().topic());
        BrokerConfig broker = defaults.get();
        if (topic == null || !CompactionSettings.of(topic.configs(), broker.cleaner()).delete()) {
            return; // cleanup.policy=compact alone: kept whatever its age and size, as in Kafka
        }
        long retentionMs = Long.parseLong(topic.configs().getOrDefault("retention.ms", String.valueOf(broker.retentionMs())));
        long retentionBytes = Long.parseLong(topic.configs().getOrDefault("retention.bytes", String.valueOf(broker.retentionBytes())));
        long excessBytes = retentionBytes < 0 ? 0 : shard.sizeBytes() - retentionBytes;
        long[] cut = firstRetained(shard, retentionMs < 0 ? Long.MIN_VALUE : nowMs - retentionMs, excessBytes);
        long newStart = cut[0];
        if (newStart <= shard.logStartOffset()) {
            return;
        }
        appender.truncate(shard, newStart, cut[1]).get(60, TimeUnit.SECONDS);
        log.info("retention advanced the log start of {} to offset {} ({} bytes dropped)", shard, newStart, cut[1]);
    }

    /** Base offset of the first batch to keep (the first newer than the cut-off once the byte excess is covered) and the bytes before it. */
    private long[] firstRetained(Shard shard, long minTimestamp, long excessBytes) {
        long hw = shard.highWatermark();
        long dropped = 0;
        try (LogStore.RangeIterator range = store.iterate(store.logFamily(), LogKeys.shardStart(shard.key()), LogKeys.of(shard.key(), hw))) {
            RocksIterator it = range.it();
            it.seekToFirst();
            while (it.isValid()) {
                byte[] value = it.value();
                long base = LogKeys.offset(it.key());
                long maxTs = ByteBuffer.wrap(value).getLong(BatchHeader.MAX_TIMESTAMP);
                it.next();
                boolean newest = !it.isValid();
                // like Kafka: drop what is expired, or what the shard can lose while staying at or above retention.bytes
                boolean expired = maxTs < minTimestamp;
                int length = BatchRef.batchLength(value);
                boolean overSize = dropped + length <= excessBytes;
                if (newest || !(expired || overSize)) {
                    return new long[] {base, dropped};
                }
                dropped += length;
            }
        }
        return new long[] {shard.logStartOffset(), 0};
    }
}
