package io.capstan.broker.log;

import java.nio.charset.StandardCharsets;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * Hands out producer ids that are never reused, even across crashes: ids are reserved in blocks whose upper end is
 * fsynced before any id of the block is given out.
 */
public final class ProducerIdAllocator {
    private static final String KEY = "producer-id-block-end";
    private static final long BLOCK = 1000;

    private final LogStore store;
    private long next;
    private long blockEnd;

    ProducerIdAllocator(LogStore store) {
        this.store = store;
        byte[] end = store.getMeta(KEY);
        this.blockEnd = end == null ? 0 : Long.parseLong(new String(end, StandardCharsets.UTF_8));
        this.next = blockEnd;
    }

    public synchronized long next() {
        if (next >= blockEnd) {
            long newEnd = blockEnd + BLOCK;
            try (WriteBatch batch = new WriteBatch()) {
                batch.put(store.metaFamily(), LogStore.bytes(KEY), LogStore.bytes(String.valueOf(newEnd)));
                store.write(batch, true);
            } catch (RocksDBException e) {
                throw new StorageException("cannot reserve producer ids: " + e.getMessage(), e);
            }
            blockEnd = newEnd;
        }
        return next++;
    }
}
