package io.capstan.broker.log;

import java.nio.ByteBuffer;
import org.apache.kafka.common.TopicPartition;
import org.rocksdb.RocksIterator;

/**
 * Rebuilds a shard's state from what RocksDB holds: log start and end offsets from its first and last batch (the start
 * where retention, DeleteRecords or compaction last recorded it), producer state and how far it was compacted.
 */
final class ShardRecovery {
    private final LogStore store;
    private final TailCacheBudget tailCache;

    ShardRecovery(LogStore store, TailCacheBudget tailCache) {
        this.store = store;
        this.tailCache = tailCache;
    }

    TailCacheBudget tailCache() {
        return tailCache;
    }

    /** Meta key holding a shard's byte count. */
    static byte[] sizeKey(int shardKey) {
        return LogStore.bytes("bytes/" + shardKey);
    }

    /** Meta key holding where retention or DeleteRecords last moved a shard's log start (maybe inside its first batch). */
    static byte[] logStartKey(int shardKey) {
        return LogStore.bytes("log-start/" + shardKey);
    }

    Shard recover(TopicPartition tp, int key) {
        long start = 0;
        long end = 0;
        try (LogStore.RangeIterator range = store.iterate(store.logFamily(), LogKeys.shardStart(key), LogKeys.shardEnd(key))) {
            RocksIterator it = range.it();
            it.seekToFirst();
            if (it.isValid()) {
                start = LogKeys.offset(it.key());
                it.seekToLast();
            }
            // a block that cannot be read also leaves the iterator invalid: that must not pass for an empty shard
            damagedIfInvalid(range, tp);
            if (it.isValid()) {
                BatchHeader last = new BatchHeader().wrap(ByteBuffer.wrap(it.value()), 0);
                end = last.lastOffset() + 1;
            }
        }
        byte[] movedStart = store.getMeta(new String(logStartKey(key), java.nio.charset.StandardCharsets.UTF_8));
        if (movedStart != null && end > 0) {
            long moved = ByteBuffer.wrap(movedStart).getLong();
            if (moved <= end) {
                // above the first batch: records of it below were deleted (DeleteRecords); below it: compaction
                // removed the first batches, which does not move the log start
                start = moved;
            }
        }
        byte[] size = store.getMeta(new String(sizeKey(key), java.nio.charset.StandardCharsets.UTF_8));
        long sizeBytes = size == null ? 0 : ByteBuffer.wrap(size).getLong();
        EpochHistory epochs = EpochHistory.decode(store.getMeta(new String(EpochHistory.key(key), java.nio.charset.StandardCharsets.UTF_8)));
        Shard shard = new Shard(tp, key, start, end, sizeBytes, tailCache, epochs);
        shard.cleanPoint(CleanPoint.decode(store.getMeta(new String(CleanPoint.key(key), java.nio.charset.StandardCharsets.UTF_8))));
        try (LogStore.RangeIterator range = store.iterate(store.producerFamily(), LogKeys.shardStart(key), LogKeys.shardEnd(key))) {
            RocksIterator it = range.it();
            for (it.seekToFirst(); it.isValid(); it.next()) {
                ProducerEntry entry = ProducerEntry.decode(it.value());
                shard.producer(LogKeys.offset(it.key()), entry);
                shard.txnSpans().update(null, entry);
                if (TxnVerification.changed(null, entry)) {
                    shard.txnViews(java.util.Map.of(LogKeys.offset(it.key()), TxnVerification.view(entry)));
                }
            }
            damagedIfInvalid(range, tp);
        }
        shard.unstable(shard.txnSpans().snapshot());
        return shard;
    }

    private static void damagedIfInvalid(LogStore.RangeIterator range, TopicPartition tp) {
        try {
            range.check();
        } catch (StorageException e) {
            throw new StorageException("the log of " + tp + " is damaged: " + e.getMessage() + ". " + LogStore.DAMAGED_ADVICE, e);
        }
    }
}
