package io.capstan.broker.log;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The newest committed batches of one shard, so readers that keep up (consumers, later followers) never touch
 * RocksDB. The group committer adds, retention truncates, any thread reads.
 *
 * <p>Batches are held outside the heap (a pooled buffer each) when they arrive there, as a produced batch does in
 * its request frame: copying each into a heap array was most of what a broker allocated per byte produced. A held
 * buffer is reference counted: readers take their own reference under this cache's lock and release it once the
 * bytes are written out, so a batch evicted meanwhile stays readable to them and is freed by the last one.
 */
public final class TailCache {
    private static final ByteBufAllocator ALLOCATOR = PooledByteBufAllocator.DEFAULT;

    private final ConcurrentSkipListMap<Long, ByteBuf> batches = new ConcurrentSkipListMap<>();
    private final TailCacheBudget budget;
    private long bytes;

    public TailCache(TailCacheBudget budget) {
        this.budget = budget;
    }

    /**
     * Keeps a committed batch. The caller keeps its own reference: a direct buffer is copied into one of exactly its
     * size (it may be a slice of a larger request frame, which must not be pinned for as long as the cache keeps the
     * batch), a heap one is shared.
     */
    public synchronized void add(long baseOffset, ByteBuf batch) {
        if (budget.perShard() <= 0 || batch.readableBytes() > budget.perShard()) {
            clear(); // a batch over the share is not kept, nor what came before it: the cache stays a suffix of the log
            return;
        }
        ByteBuf held = batch.isDirect() ? copyOffHeap(batch) : batch.retainedSlice();
        ByteBuf previous = batches.put(baseOffset, held);
        if (previous != null) {
            bytes -= previous.readableBytes();
            previous.release();
        }
        bytes += held.readableBytes();
        trim();
    }

    private static ByteBuf copyOffHeap(ByteBuf batch) {
        int length = batch.readableBytes();
        ByteBuf copy = ALLOCATOR.directBuffer(length, length);
        copy.writeBytes(batch, batch.readerIndex(), length);
        return copy;
    }

    /**
     * Drops the oldest batches until the cache fits its share, down to none: a batch larger than the share is read
     * from the log instead, so all caches together never exceed the broker-wide bound.
     */
    public synchronized void trim() {
        long limit = budget.perShard();
        while (bytes > limit && !batches.isEmpty()) {
            drop(batches.pollFirstEntry().getValue());
        }
    }

    private void drop(ByteBuf batch) {
        bytes -= batch.readableBytes();
        batch.release();
    }

    /** Bytes held now. */
    public synchronized long bytes() {
        return bytes;
    }

    /** Forgets batches wholly below a new log start offset (one that holds it stays: its later records are readable). */
    public synchronized void truncateBefore(long offset) {
        Map.Entry<Long, ByteBuf> e;
        while ((e = batches.firstEntry()) != null && lastOffset(e.getValue()) < offset) {
            batches.remove(e.getKey());
            drop(e.getValue());
        }
    }

    /** Forgets batches at or after {@code offset} (a follower truncated its log there). */
    public synchronized void truncateFrom(long offset) {
        Map.Entry<Long, ByteBuf> e;
        while ((e = batches.lastEntry()) != null && e.getKey() >= offset) {
            batches.remove(e.getKey());
            drop(e.getValue());
        }
    }

    /** Forgets everything, freeing what it held: the shard was deleted or the broker is stopping. */
    public synchronized void clear() {
        Map.Entry<Long, ByteBuf> e;
        while ((e = batches.pollFirstEntry()) != null) {
            drop(e.getValue());
        }
    }

    /** Lowest base offset held, or Long.MAX_VALUE when empty. */
    public long firstOffset() {
        Map.Entry<Long, ByteBuf> first = batches.firstEntry();
        return first == null ? Long.MAX_VALUE : first.getKey();
    }

    /**
     * Adds to {@code out} the batches from the one holding {@code offset} on, below {@code end}, stopping before
     * {@code maxBytes} would be exceeded (the first regardless when {@code minOneBatch}, KIP-74). Each added buffer is
     * the caller's own reference, to release. Returns the bytes added, or -1 when the batch holding {@code offset} is
     * not here (evicted, or never cached), with nothing added.
     */
    public synchronized int read(long offset, long end, int maxBytes, boolean minOneBatch, List<ByteBuf> out) {
        Long floor = batches.floorKey(offset);
        if (floor == null) {
            return -1;
        }
        int total = 0;
        boolean first = true;
        for (Map.Entry<Long, ByteBuf> e : batches.tailMap(floor, true).entrySet()) {
            if (e.getKey() >= end) {
                break;
            }
            ByteBuf batch = e.getValue();
            if (first && lastOffset(batch) < offset) {
                return -1; // the floor batch ends before the offset: what holds it is not cached
            }
            int length = batch.readableBytes();
            if ((long) total + length > maxBytes && !(first && minOneBatch)) {
                break;
            }
            out.add(batch.retainedSlice());
            total += length;
            first = false;
        }
        return first ? -1 : total;
    }

    private static long lastOffset(ByteBuf batch) {
        return batch.getLong(batch.readerIndex() + BatchHeader.BASE_OFFSET) + batch.getInt(batch.readerIndex() + BatchHeader.LAST_OFFSET_DELTA);
    }
}
