package io.capstan.broker.log;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses new appends while the data volume has less than the configured free space, so a full disk turns into a
 * retriable produce error rather than a RocksDB write failure; reads continue. Refreshed by the log's scheduler.
 */
public final class DiskSpaceGuard {
    private static final Logger log = LoggerFactory.getLogger(DiskSpaceGuard.class);

    private final FileStore fileStore;
    private final long minFreeBytes;
    private volatile long freeBytes = Long.MAX_VALUE;
    private volatile long totalBytes;
    private volatile boolean full;

    DiskSpaceGuard(Path dir, long minFreeBytes) {
        try {
            this.fileStore = Files.getFileStore(dir);
        } catch (IOException e) {
            throw new StorageException("cannot inspect the volume of " + dir + ": " + e.getMessage(), e);
        }
        this.minFreeBytes = minFreeBytes;
        refresh();
    }

    void refresh() {
        try {
            freeBytes = fileStore.getUsableSpace();
            totalBytes = fileStore.getTotalSpace();
        } catch (IOException e) {
            return;
        }
        boolean nowFull = freeBytes < minFreeBytes;
        if (nowFull != full) {
            if (nowFull) {
                log.error("data volume has {} bytes free, below disk.min.free.bytes={}: refusing produce requests until space is freed "
                        + "(delete topics, lower retention, or grow the volume)", freeBytes, minFreeBytes);
            } else {
                log.info("data volume has {} bytes free again: accepting produce requests", freeBytes);
            }
            full = nowFull;
        }
    }

    public boolean full() { return full; }
    public long freeBytes() { return freeBytes; }
    public long totalBytes() { return totalBytes; }
}
