package io.capstan.broker.log;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.RocksIterator;

/**
 * Reads whole committed batches of a shard from a fetch offset, up to a byte budget: from the tail cache when it
 * holds the offset, else from RocksDB with an iterator bounded by the high watermark. Thread-safe.
 */
public final class ShardReader {
    private final LogStore store;
    private final FatalErrorHandler fatal;

    public ShardReader(LogStore store, FatalErrorHandler fatal) {
        this.fatal = fatal;
        this.store = store;
    }

    /**
     * Appends to {@code out} the batches starting with the one that contains {@code offset}, stopping before the
     * budget would be exceeded; when {@code minOneBatch} the first batch is returned even if larger (KIP-74).
     * Returns the bytes added. Each buffer added is the caller's to release once its bytes are written out.
     */
    public int read(Shard shard, long offset, int maxBytes, boolean minOneBatch, List<ByteBuf> out) {
        return read(shard, offset, shard.highWatermark(), maxBytes, minOneBatch, out);
    }

    /** As {@link #read(Shard, long, int, boolean, List)} but up to {@code hw}: a follower reads up to the leader's durable end. */
    public int read(Shard shard, long offset, long hw, int maxBytes, boolean minOneBatch, List<ByteBuf> out) {
        if (offset >= hw) {
            return 0;
        }
        if (offset >= shard.tail().firstOffset()) {
            int got = shard.tail().read(offset, hw, maxBytes, minOneBatch, out);
            if (got >= 0) {
                return got;
            }
        }
        return readStore(shard, offset, hw, maxBytes, minOneBatch, out);
    }

    /** As {@link #read(Shard, long, long, int, boolean, List)}, each batch copied into an array of its own: for paths off the fetch path. */
    public int readCopies(Shard shard, long offset, long hw, int maxBytes, boolean minOneBatch, List<byte[]> out) {
        List<ByteBuf> held = new ArrayList<>();
        int got = read(shard, offset, hw, maxBytes, minOneBatch, held);
        for (ByteBuf batch : held) {
            out.add(ByteBufUtil.getBytes(batch));
            batch.release();
        }
        return got;
    }

    /** As {@link #read(Shard, long, int, boolean, List)}, each batch copied into an array of its own. */
    public int readCopies(Shard shard, long offset, int maxBytes, boolean minOneBatch, List<byte[]> out) {
        return readCopies(shard, offset, shard.highWatermark(), maxBytes, minOneBatch, out);
    }

    private int readStore(Shard shard, long offset, long hw, int maxBytes, boolean minOneBatch, List<ByteBuf> out) {
        int bytes = 0;
        try (LogStore.RangeIterator range = store.iterate(store.logFamily(), LogKeys.shardStart(shard.key()), LogKeys.of(shard.key(), hw))) {
            RocksIterator it = range.it();
            it.seekForPrev(LogKeys.of(shard.key(), offset));
            if (!it.isValid()) {
                it.seekToFirst();
            }
            boolean first = true;
            for (; it.isValid(); it.next()) {
                byte[] value = it.value();
                if (first && lastOffset(value) < offset) {
                    continue;
                }
                int length = BatchRef.batchLength(value);
                if (bytes + length > maxBytes && !(first && minOneBatch)) {
                    break;
                }
                out.add(Unpooled.wrappedBuffer(resolved(shard, value)));
                bytes += length;
                first = false;
            }
            if (!it.isValid()) {
                checked(range, shard, offset);
            }
        }
        return bytes;
    }

    /** The batch an entry stands for; a data file that cannot give it back stops the broker, as a damaged block does. */
    private byte[] resolved(Shard shard, byte[] value) {
        try {
            return store.batch(value);
        } catch (StorageException e) {
            fatal.fatal("the log is damaged: reading " + shard + " at offset " + ByteBuffer.wrap(value).getLong(BatchHeader.BASE_OFFSET) + " failed (" + e.getMessage() + ")", e);
            throw e;
        }
    }

    /**
     * A block of the log that cannot be read (its checksum does not match: the disk or something else changed it) stops
     * the broker, as a failed disk stops a Kafka broker with one log directory: serving around it would hang every
     * consumer at that offset and could let a damaged replica lead.
     */
    private void checked(LogStore.RangeIterator range, Shard shard, long offset) {
        try {
            range.check();
        } catch (StorageException e) {
            fatal.fatal("the log is damaged: reading " + shard + " from offset " + offset + " failed (" + e.getMessage() + "). "
                    + LogStore.DAMAGED_ADVICE, e);
            throw e;
        }
    }

    /**
     * The aborted transactions a read_committed consumer must know of to read {@code [from, to)}
     * ({@link AbortedTxn#overlapping}).
     */
    public List<AbortedTxn> abortedTransactions(Shard shard, long from, long to) {
        try {
            return AbortedTxn.overlapping(store, shard.key(), from, to);
        } catch (StorageException e) {
            fatal.fatal("the log is damaged: reading the aborted transactions of " + shard + " from offset " + from + " failed ("
                    + e.getMessage() + "). " + LogStore.DAMAGED_ADVICE, e);
            throw e;
        }
    }

    /** Bytes of the shard's batches from {@code offset} (a batch boundary) to its end: what truncating the end there drops. */
    public long bytesFrom(Shard shard, long offset) {
        return bytesIn(shard, LogKeys.of(shard.key(), offset), LogKeys.shardEnd(shard.key()), offset);
    }

    /** Exact bytes of the shard's batches below {@code offset} (a batch boundary). */
    public long bytesBefore(Shard shard, long offset) {
        return bytesIn(shard, LogKeys.shardStart(shard.key()), LogKeys.of(shard.key(), offset), 0);
    }

    private long bytesIn(Shard shard, byte[] lower, byte[] upper, long firstOffset) {
        long bytes = 0;
        try (LogStore.RangeIterator range = store.iterate(store.logFamily(), lower, upper)) {
            RocksIterator it = range.it();
            for (it.seekToFirst(); it.isValid(); it.next()) {
                bytes += BatchRef.batchLength(it.value());
            }
            checked(range, shard, firstOffset);
        }
        return bytes;
    }

    /**
     * Where a log start of {@code offset} cuts the shard: the base offset of the first batch to keep (the one holding
     * {@code offset}, or the last batch when {@code offset} is past them all) and the bytes of the batches before it.
     */
    public long[] cutBefore(Shard shard, long offset) {
        long bytes = 0;
        long lastBase = -1;
        int lastLength = 0;
        try (LogStore.RangeIterator range = store.iterate(store.logFamily(), LogKeys.shardStart(shard.key()), LogKeys.shardEnd(shard.key()))) {
            RocksIterator it = range.it();
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] value = it.value();
                long base = LogKeys.offset(it.key());
                if (lastOffset(value) >= offset) {
                    return new long[] {base, bytes};
                }
                int length = BatchRef.batchLength(value);
                bytes += length;
                lastBase = base;
                lastLength = length;
            }
            checked(range, shard, 0);
        }
        return lastBase < 0 ? new long[] {offset, 0} : new long[] {lastBase, bytes - lastLength};
    }

    static long lastOffset(byte[] batch) {
        ByteBuffer b = ByteBuffer.wrap(batch);
        return b.getLong(BatchHeader.BASE_OFFSET) + b.getInt(BatchHeader.LAST_OFFSET_DELTA);
    }

    /** Offset of the first record with timestamp >= {@code timestamp}, with its timestamp, or null if none is committed. */
    public long[] offsetForTimestamp(Shard shard, long timestamp) {
        long hw = shard.highWatermark();
        try (LogStore.RangeIterator range = store.iterate(store.logFamily(), LogKeys.shardStart(shard.key()), LogKeys.of(shard.key(), hw))) {
            RocksIterator it = range.it();
            for (it.seekToFirst(); it.isValid(); it.next()) {
                BatchHeader h = new BatchHeader().wrap(ByteBuffer.wrap(it.value()), 0);
                if (h.maxTimestamp() >= timestamp) {
                    return RecordTimestamps.firstAtOrAfter(resolved(shard, it.value()), timestamp);
                }
            }
            checked(range, shard, 0);
        }
        return null;
    }

    /** Offset and timestamp of the record with the largest timestamp, or null if the shard is empty. */
    public long[] maxTimestamp(Shard shard) {
        long hw = shard.highWatermark();
        long[] best = null;
        try (LogStore.RangeIterator range = store.iterate(store.logFamily(), LogKeys.shardStart(shard.key()), LogKeys.of(shard.key(), hw))) {
            RocksIterator it = range.it();
            for (it.seekToFirst(); it.isValid(); it.next()) {
                BatchHeader h = new BatchHeader().wrap(ByteBuffer.wrap(it.value()), 0);
                if (best == null || h.maxTimestamp() > best[1]) {
                    best = RecordTimestamps.offsetOfMax(resolved(shard, it.value()));
                }
            }
            checked(range, shard, 0);
        }
        return best;
    }
}
