package io.capstan.broker.log;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The tail cache keeps batches outside the heap with reference counts: what it holds and hands out is freed exactly once. */
class TailCacheTest {
    private final TailCacheBudget budget = new TailCacheBudget(10_000, 10_000);
    private final TailCache cache = new TailCache(budget);

    /**
     * The buffer that owns a slice's memory. Not just unwrap(): when Netty's leak detector samples an allocation it
     * wraps it, and a slice of that wrapper unwraps to another slice (this test failed in CI that way, once).
     */
    private static ByteBuf root(ByteBuf b) {
        while (b.unwrap() != null) {
            b = b.unwrap();
        }
        return b;
    }

    /** A batch of {@code size} bytes covering offsets {@code base} to {@code base + records - 1}, in a pooled direct buffer. */
    private static ByteBuf batch(long base, int records, int size) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(size, size);
        b.writeZero(size);
        b.setLong(BatchHeader.BASE_OFFSET, base).setInt(BatchHeader.LAST_OFFSET_DELTA, records - 1);
        b.setByte(size - 1, (byte) base);
        return b;
    }

    /** A request frame holding a batch at its end, sliced as the produce path slices it. */
    private static ByteBuf sliceOfFrame(long base, int records, int size) {
        ByteBuf frame = PooledByteBufAllocator.DEFAULT.directBuffer(100 + size);
        frame.writeZero(100);
        ByteBuf b = batch(base, records, size);
        frame.writeBytes(b);
        b.release();
        ByteBuf slice = frame.retainedSlice(100, size);
        frame.release();
        return slice;
    }

    @Test
    void aDirectBatchIsCopiedSoTheFrameItCameInIsNotKeptAlive() {
        ByteBuf produced = sliceOfFrame(0, 5, 1_000);
        cache.add(0, produced);
        assertThat(produced.refCnt()).as("the caller keeps exactly its own reference").isEqualTo(1);
        ByteBuf frame = root(produced);
        produced.release();
        assertThat(frame.refCnt()).as("the frame is freed although the cache holds the batch").isZero();

        List<ByteBuf> read = new ArrayList<>();
        assertThat(cache.read(2, 100, 10_000, true, read)).isEqualTo(1_000);
        assertThat(read).hasSize(1);
        assertThat(read.get(0).getLong(read.get(0).readerIndex() + BatchHeader.BASE_OFFSET)).isZero();
        assertThat(read.get(0).isDirect()).isTrue();
        read.forEach(ByteBuf::release);
        cache.clear();
    }

    @Test
    void aHeapBatchIsSharedNotCopied() {
        byte[] array = new byte[200];
        ByteBuf heap = Unpooled.wrappedBuffer(array);
        heap.setLong(BatchHeader.BASE_OFFSET, 7);
        cache.add(7, heap);
        List<ByteBuf> read = new ArrayList<>();
        cache.read(7, 100, 10_000, true, read);
        assertThat(read.get(0).array()).isSameAs(array);
        read.forEach(ByteBuf::release);
        cache.clear();
        assertThat(heap.refCnt()).as("the cache's reference was released, the caller's is left").isEqualTo(1);
    }

    @Test
    void aReaderKeepsWhatItReadWhenTheCacheEvictsIt() {
        addAndLetGo(0, 10, 4_000);
        List<ByteBuf> read = new ArrayList<>();
        assertThat(cache.read(0, 100, 10_000, true, read)).isEqualTo(4_000);
        ByteBuf held = root(read.get(0));
        addAndLetGo(10, 10, 4_000);
        addAndLetGo(20, 10, 4_000); // 12,000 > 10,000: the first goes
        assertThat(cache.firstOffset()).isEqualTo(10);
        assertThat(held.refCnt()).as("evicted, yet still the reader's").isEqualTo(1);
        assertThat(read.get(0).getByte(3_999)).isEqualTo((byte) 0);
        read.get(0).release();
        assertThat(held.refCnt()).as("freed by the last reference").isZero();
        cache.clear();
    }

    @Test
    void everyWayOfForgettingABatchFreesIt() {
        List<ByteBuf> held = new ArrayList<>();
        for (long base = 0; base < 50; base += 10) {
            addAndLetGo(base, 10, 1_000);
        }
        List<ByteBuf> read = new ArrayList<>();
        cache.read(0, 100, 10_000, true, read);
        assertThat(read).hasSize(5);
        read.forEach(b -> held.add(root(b)));
        read.forEach(ByteBuf::release);
        assertThat(held).allSatisfy(b -> assertThat(b.refCnt()).isEqualTo(1));

        cache.truncateBefore(15); // [0-9] wholly below; [10-19] holds 15 and stays
        assertThat(held.get(0).refCnt()).isZero();
        assertThat(held.get(1).refCnt()).isEqualTo(1);
        cache.truncateFrom(40);
        assertThat(held.get(4).refCnt()).isZero();
        budget.shards(5); // 2,000 each: three of 1,000 held, the oldest goes
        cache.trim();
        assertThat(held.get(1).refCnt()).isZero();
        assertThat(cache.bytes()).isEqualTo(2_000);
        cache.clear();
        assertThat(held).allSatisfy(b -> assertThat(b.refCnt()).isZero());
        assertThat(cache.bytes()).isZero();
    }

    @Test
    void readsStopAtTheBudgetAndTheEndAndSayWhenTheOffsetIsNotHeld() {
        for (long base = 10; base < 50; base += 10) {
            addAndLetGo(base, 10, 1_000);
        }
        List<ByteBuf> read = new ArrayList<>();
        assertThat(cache.read(5, 100, 10_000, true, read)).as("below the first batch held").isEqualTo(-1);
        assertThat(cache.read(25, 100, 1_500, true, read)).as("one batch fits 1,500 bytes").isEqualTo(1_000);
        assertThat(cache.read(25, 100, 500, true, read)).as("the first batch regardless (KIP-74)").isEqualTo(1_000);
        assertThat(cache.read(25, 100, 500, false, read)).as("nothing fits, none forced").isEqualTo(-1);
        assertThat(cache.read(25, 40, 10_000, true, read)).as("up to the end offset").isEqualTo(2_000);
        assertThat(read).hasSize(4);
        read.forEach(ByteBuf::release);
        cache.clear();
    }

    @Test
    void aBatchLargerThanTheShareEmptiesTheCache() {
        addAndLetGo(0, 10, 4_000);
        ByteBuf large = batch(10, 10, 11_000);
        cache.add(10, large);
        large.release();
        assertThat(cache.bytes()).isZero();
        assertThat(cache.firstOffset()).isEqualTo(Long.MAX_VALUE);
    }

    /** Adds a batch as the log does: the log lets go of its own reference once the cache has it. */
    private void addAndLetGo(long base, int records, int size) {
        ByteBuf batch = batch(base, records, size);
        cache.add(base, batch);
        batch.release();
    }
}
