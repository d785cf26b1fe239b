package io.capstan.broker.log;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.RocksIterator;

/**
 * One entry of a shard's aborted-transaction index, kept by the offset of its abort marker ({@code lastOffset}), as
 * Kafka's .txnindex: a read_committed consumer is told of every aborted transaction overlapping what it fetched and
 * skips that producer's batches from {@code firstOffset} to the marker. {@code lastStableOffset}: no transaction that
 * began below it was still open when this one ended, so a search for transactions overlapping a range ending there
 * may stop at this entry.
 */
public record AbortedTxn(long producerId, long firstOffset, long lastOffset, long lastStableOffset) {

    /** True if a batch of {@code producer} at {@code offset} belongs to this aborted transaction. */
    public boolean covers(long producer, long offset) {
        return producer == producerId && offset >= firstOffset && offset < lastOffset;
    }

    /**
     * The aborted transactions of a shard overlapping {@code [from, to)}: each whose marker is at or after {@code from}
     * and which began below {@code to} (Kafka's collectAbortedTransactions). The search stops at the first entry after
     * which no transaction beginning below {@code to} can still have been open. A block that cannot be read throws.
     */
    static List<AbortedTxn> overlapping(LogStore store, int shardKey, long from, long to) {
        List<AbortedTxn> out = new ArrayList<>();
        if (from >= to) {
            return out;
        }
        try (LogStore.RangeIterator range = store.iterate(store.abortedTxnFamily(), key(shardKey, from), LogKeys.shardEnd(shardKey))) {
            RocksIterator it = range.it();
            for (it.seekToFirst(); it.isValid(); it.next()) {
                AbortedTxn txn = decode(it.key(), it.value());
                if (txn.firstOffset() < to) {
                    out.add(txn);
                }
                if (txn.lastStableOffset() >= to) {
                    return out;
                }
            }
            range.check();
        }
        return out;
    }

    static byte[] key(int shardKey, long lastOffset) {
        return LogKeys.of(shardKey, lastOffset);
    }

    byte[] encode() {
        return ByteBuffer.allocate(24).putLong(producerId).putLong(firstOffset).putLong(lastStableOffset).array();
    }

    static AbortedTxn decode(byte[] key, byte[] value) {
        ByteBuffer buf = ByteBuffer.wrap(value);
        long producerId = buf.getLong();
        long first = buf.getLong();
        return new AbortedTxn(producerId, first, LogKeys.offset(key), buf.getLong());
    }
}
