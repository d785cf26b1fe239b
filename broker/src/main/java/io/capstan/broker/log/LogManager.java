package io.capstan.broker.log;

import io.capstan.cluster.DaemonThreads;
import io.capstan.config.BrokerConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.common.protocol.Errors;
import org.rocksdb.RocksDBException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's log: opens the store, recovers every shard, and wires the single group committer, readers,
 * retention, the WAL flusher (interval policy) and the disk guard. The Kafka layer talks to this and nothing below.
 */
public final class LogManager implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LogManager.class);

    private final LogStore store;
    private final TopicCatalog catalog;
    private final GroupCommitAppender appender;
    private final ShardReader reader;
    private final ProducerIdAllocator producerIds;
    private final DiskSpaceGuard diskGuard;
    private final RetentionCleaner retention;
    private final LogCompactor compactor;
    private final CleanerStats cleanerStats = new CleanerStats();
    private final ScheduledExecutorService cleaner;
    private final DataFileReclaimer reclaimer;
    private final ScheduledExecutorService scheduler;
    private final PendingWrites pending;
    private final FatalErrorHandler fatal;

    /** A failed WAL fsync or a dead committer thread goes to {@code fatal} (see {@link FatalErrorHandler}). */
    public LogManager(BrokerConfig config, CommitListener listener, CommitStats stats, FatalErrorHandler fatal) {
        this(config, () -> config, listener, stats, fatal);
    }

    /**
     * {@code current}: the settings as they are now, for those retention and the cleaner read on each pass (dynamic
     * broker configs); {@code config} for those read once.
     */
    public LogManager(BrokerConfig config, java.util.function.Supplier<BrokerConfig> current, CommitListener listener, CommitStats stats,
                      FatalErrorHandler fatal) {
        this(config, current, LogStore.FORMAT_VERSION, listener, stats, fatal);
    }

    /**
     * {@code allowedFormat}: the newest on-disk format the cluster version lets this broker write (decision 0028):
     * {@code log.data.files} takes effect from {@link LogStore#DATA_FILES_FORMAT}, rounds in the data files from
     * {@link LogStore#ROUNDS_FORMAT}.
     */
    public LogManager(BrokerConfig config, java.util.function.Supplier<BrokerConfig> current, int allowedFormat, CommitListener listener,
                      CommitStats stats, FatalErrorHandler fatal) {
        long start = System.nanoTime();
        this.fatal = fatal;
        this.pending = new PendingWrites(config.maxPendingBytes());
        this.store = new LogStore(config.dataDir(), config.rocksdbBlockCacheBytes(), config.rocksdbWriteBufferBytes(), config.rocksdbBlobFiles(),
                config.logDataFiles() && allowedFormat >= LogStore.DATA_FILES_FORMAT, allowedFormat >= LogStore.ROUNDS_FORMAT,
                config.logDataFileBytes(), config.logPreallocate(), config.logSegmentDeleteDelayMs());
        List<LogStore.LostTail> lostTails = store.countReferences();
        boolean sync = config.flushPolicy() == BrokerConfig.FlushPolicy.ALWAYS;
        this.appender = new GroupCommitAppender(store, sync, config.groupCommitMaxBatches(), listener, stats, fatal);
        this.catalog = new TopicCatalog(store, new ShardRecovery(store,
                new TailCacheBudget(config.tailCacheBytesPerShard(), TailCacheBudget.brokerMax(config.tailCacheMaxBytes()))), appender);
        catalog.load();
        appender.start();
        cutLostTails(lostTails);
        this.reader = new ShardReader(store, fatal);
        this.producerIds = new ProducerIdAllocator(store);
        this.diskGuard = new DiskSpaceGuard(config.dataDir(), config.diskMinFreeBytes());
        this.retention = new RetentionCleaner(store, catalog, appender, current);
        this.compactor = new LogCompactor(store, catalog, appender, config.cleaner().dedupeBufferBytes(), () -> current.get().cleaner(), cleanerStats);
        this.cleaner = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("capstan-log-cleaner"));
        this.scheduler = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("capstan-log-maintenance"));
        scheduler.scheduleWithFixedDelay(diskGuard::refresh, 1, 1, TimeUnit.SECONDS);
        scheduler.scheduleWithFixedDelay(() -> retention.runOnce(System.currentTimeMillis()),
                config.retentionCheckIntervalMs(), config.retentionCheckIntervalMs(), TimeUnit.MILLISECONDS);
        this.reclaimer = new DataFileReclaimer(store, appender, () -> current.get().logDataFileReclaimRatio(),
                () -> current.get().cleaner().ioMaxBytesPerSecond());
        if (store.dataFiles() != null) {
            cleaner.scheduleWithFixedDelay(this::reclaimDataFilesQuietly, config.retentionCheckIntervalMs(), config.retentionCheckIntervalMs(),
                    TimeUnit.MILLISECONDS);
        }
        if (config.cleaner().enable()) {
            // its own thread: a long compaction must not hold up retention or the disk guard
            cleaner.scheduleWithFixedDelay(() -> runCleaner(System.currentTimeMillis()),
                    config.cleaner().backoffMs(), Math.max(1, config.cleaner().backoffMs()), TimeUnit.MILLISECONDS);
        }
        if (!sync) {
            scheduler.scheduleWithFixedDelay(this::syncWal, config.flushIntervalMs(), config.flushIntervalMs(), TimeUnit.MILLISECONDS);
        } else if (store.writesRounds()) {
            // acknowledged rounds are durable in the data files; RocksDB's copy is synced now and then, which bounds the replay
            scheduler.scheduleWithFixedDelay(this::syncIndex, INDEX_SYNC_INTERVAL_MS, INDEX_SYNC_INTERVAL_MS, TimeUnit.MILLISECONDS);
        }
        log.info("recovered {} topics, {} shards from {} in {} ms (flush policy {})", catalog.topics().size(),
                catalog.shards().size(), config.dataDir(), (System.nanoTime() - start) / 1_000_000, config.flushPolicy());
    }

    /**
     * Cuts the shards whose last entries refer to data-file bytes a crash lost, as a follower cuts a diverged end
     * (producer state and epochs with it), before anything reads them. None of those records was acknowledged.
     */
    private void cutLostTails(List<LogStore.LostTail> tails) {
        for (LogStore.LostTail t : tails) {
            for (Shard shard : catalog.shards()) {
                if (shard.key() == t.shardKey()) {
                    log.warn("{}: the batches from offset {} on ({} bytes) were written but not synced before the broker stopped;"
                            + " they were never acknowledged and are dropped", shard, t.offset(), t.bytes());
                    appender.truncateEnd(shard, t.offset(), t.bytes()).join();
                }
            }
        }
    }

    /** How often RocksDB's WAL is synced when rounds are in the data files: at most this much is replayed at a start. */
    static final long INDEX_SYNC_INTERVAL_MS = 1000;

    private void syncIndex() {
        try {
            store.syncIndex();
        } catch (RocksDBException | RuntimeException e) {
            fatal.fatal("the periodic fsync of RocksDB's write-ahead log failed (" + e.getMessage() + "); the disk under "
                    + store.dir() + " may be failing", e);
        }
    }

    private void syncWal() {
        try {
            store.syncWal();
        } catch (RocksDBException | RuntimeException e) {
            // with log.flush.policy=interval the records since the last sync were acknowledged already; what the disk
            // holds of them is unknown now
            fatal.fatal("the periodic WAL fsync failed (" + e.getMessage() + "); records acknowledged since the last sync may be lost", e);
        }
    }

    /** Queues a validated batch for the next group commit, unless the disk is full. */
    public void append(Shard shard, byte[] batch, Consumer<AppendResult> callback) {
        append(shard, batch, LogCommand.Append.ANY_EPOCH, callback);
    }

    /**
     * The same for a leader that accepted the batch in {@code leaderEpoch}: refused with NOT_LEADER_OR_FOLLOWER if the
     * shard is in another epoch by the time it is written.
     */
    public void append(Shard shard, byte[] batch, int leaderEpoch, Consumer<AppendResult> callback) {
        append(shard, Unpooled.wrappedBuffer(batch), leaderEpoch, callback);
    }

    /**
     * The same for a batch in a buffer, which the log owns from here on (it releases the reference it was given once
     * the batch is written or refused): a produced batch stays in its request frame until then, never copied to the heap.
     */
    public void append(Shard shard, ByteBuf batch, int leaderEpoch, Consumer<AppendResult> callback) {
        if (refusedForSpace(batch, callback)) {
            return;
        }
        int length = batch.readableBytes();
        pending.added(length);
        appender.append(shard, batch, leaderEpoch, result -> {
            pending.done(length);
            callback.accept(result);
        });
    }

    private boolean refusedForSpace(ByteBuf batch, Consumer<AppendResult> callback) {
        if (!diskGuard.full()) {
            return false;
        }
        batch.release();
        callback.accept(AppendResult.failed(Errors.KAFKA_STORAGE_ERROR, "the broker's data volume is full ("
                + diskGuard.freeBytes() + " bytes free, below disk.min.free.bytes); retry later"));
        return true;
    }

    /**
     * Writes a transaction marker for {@code producerId} as leader in {@code leaderEpoch} (WriteTxnMarkers): the end of
     * its transaction in this shard, refused if a later producer or coordinator epoch was seen here.
     */
    public void appendMarker(Shard shard, long producerId, short producerEpoch, TxnMarker marker, int leaderEpoch,
                             Consumer<AppendResult> callback) {
        append(shard, marker.batch(producerId, producerEpoch, System.currentTimeMillis()), leaderEpoch, callback);
    }

    /** A coordinator's own transactional batch (TxnOffsetCommit) as leader in {@code leaderEpoch}: its producer epoch is checked, not sequences. */
    public void appendAsCoordinator(Shard shard, byte[] batch, int leaderEpoch, Consumer<AppendResult> callback) {
        ByteBuf buffer = Unpooled.wrappedBuffer(batch);
        if (refusedForSpace(buffer, callback)) {
            return;
        }
        appender.appendAsCoordinator(shard, buffer, leaderEpoch, callback);
    }

    /**
     * A client's transactional batch as leader in {@code leaderEpoch}, written only if it joins a transaction the
     * coordinator confirmed ({@link TxnVerification}; {@code verifiedLastTxnEnd} is what the producer's view showed).
     * The log owns {@code batch} from here on, as for {@link #append(Shard, ByteBuf, int, Consumer)}.
     */
    public void appendTransactional(Shard shard, ByteBuf batch, int leaderEpoch, long verifiedLastTxnEnd, Consumer<AppendResult> callback) {
        if (refusedForSpace(batch, callback)) {
            return;
        }
        int length = batch.readableBytes();
        pending.added(length);
        appender.appendTransactional(shard, batch, leaderEpoch, verifiedLastTxnEnd, result -> {
            pending.done(length);
            callback.accept(result);
        });
    }

    /** As {@link #appendTransactional(Shard, ByteBuf, int, long, Consumer)} for a batch in an array. */
    public void appendTransactional(Shard shard, byte[] batch, int leaderEpoch, long verifiedLastTxnEnd, Consumer<AppendResult> callback) {
        appendTransactional(shard, Unpooled.wrappedBuffer(batch), leaderEpoch, verifiedLastTxnEnd, callback);
    }

    /** A follower's copy of a batch from its leader (offsets and epoch already stamped) that must begin where the log ends. */
    public void appendFromLeader(Shard shard, byte[] batch, Consumer<AppendResult> callback) {
        appendFromLeader(shard, batch, ByteBuffer.wrap(batch).getLong(BatchHeader.BASE_OFFSET), callback);
    }

    /**
     * The same where the leader's batches may skip offsets it compacted away: the log must end at {@code expectedEnd}
     * (the fetch offset, or the end of the previous batch of the same answer) and the batch begin there or later.
     */
    public void appendFromLeader(Shard shard, byte[] batch, long expectedEnd, Consumer<AppendResult> callback) {
        appendFromLeader(shard, Unpooled.wrappedBuffer(batch), expectedEnd, callback);
    }

    /** As {@link #appendFromLeader(Shard, byte[], long, Consumer)} for a batch in a buffer, which the log owns from here on. */
    public void appendFromLeader(Shard shard, ByteBuf batch, long expectedEnd, Consumer<AppendResult> callback) {
        if (refusedForSpace(batch, callback)) {
            return;
        }
        appender.appendFromLeader(shard, batch, expectedEnd, callback);
    }

    /**
     * Drops every batch of the shard from {@code offset} on, which must be a batch boundary; nothing if the log ends
     * there by the time the committer comes to it. Only a follower does this, from its own fetcher thread; a batch it
     * accepted while it led may still be queued, and is dropped too (its bytes are not subtracted from the shard's
     * size, which retention by size then overcounts by that much).
     */
    public java.util.concurrent.CompletableFuture<Void> truncateEnd(Shard shard, long offset) {
        // counted from the cut to the end (usually nothing: a follower reconciling with a new leader truncates at its own
        // end): counting what stays read the whole shard, 0.6 s for 250 MB, on every failover of every shard
        return appender.truncateEnd(shard, offset, reader.bytesFrom(shard, offset));
    }

    /**
     * Drops everything and restarts the shard empty at {@code offset}: a follower that fell behind its leader's log
     * start (from its fetcher thread), or a replica moved off this broker (offset 0, its fetcher stopped).
     */
    public java.util.concurrent.CompletableFuture<Void> resetTo(Shard shard, long offset) {
        return appender.reset(shard, offset);
    }

    public TopicMeta createTopic(String name, int partitions, Map<String, String> configs) {
        return catalog.create(name, partitions, configs);
    }

    /** Creates the local copy of a cluster topic under the id the cluster gave it. */
    public TopicMeta createTopic(String name, org.apache.kafka.common.Uuid id, int partitions, Map<String, String> configs) {
        return catalog.create(name, id, partitions, configs);
    }

    public java.util.concurrent.CompletableFuture<Void> deleteTopic(String name) {
        return catalog.delete(name);
    }

    /** Drops every batch of the shard below {@code offset}, which must be a batch boundary at or below the high watermark. */
    public java.util.concurrent.CompletableFuture<Void> truncateBefore(Shard shard, long offset) {
        return appender.truncate(shard, offset, reader.bytesBefore(shard, offset));
    }

    /**
     * DeleteRecords: the log start moves to {@code offset} (above the current start, at most the high watermark); the
     * batches wholly below it are dropped, and one that holds it stays with its earlier records unreadable, as in
     * Kafka. The last batch always stays, so the log end survives a restart even when everything is deleted.
     */
    public java.util.concurrent.CompletableFuture<Void> deleteRecordsBefore(Shard shard, long offset) {
        long[] cut = reader.cutBefore(shard, offset);
        return appender.truncate(shard, offset, cut[0], cut[1]);
    }

    /**
     * Compacts every shard of a compacted topic that is due; returns how many it compacted. Runs every
     * log.cleaner.backoff.ms on the cleaner thread; tests call it directly (one pass at a time: synchronized).
     */
    /**
     * One check of data-file reclaiming ({@link DataFileReclaimer}): returns the batches moved out of the mostly dead
     * files. Runs every log.retention.check.interval.ms on the cleaner thread; tests call it directly.
     */
    public synchronized int reclaimDataFiles() throws Exception {
        return reclaimer.runOnce();
    }

    /**
     * The data files (log.data.files): {bytes on disk, bytes still referenced, files reclaimed, bytes reclaiming
     * handed to the committer to move}; zeros without them.
     */
    public long[] dataFileStats() {
        DataFiles files = store.dataFiles();
        return files == null ? new long[4]
                : new long[] {files.bytesOnDisk(), files.liveBytes(), reclaimer.reclaimed(), reclaimer.movedBytes()};
    }

    private void reclaimDataFilesQuietly() {
        try {
            reclaimDataFiles();
        } catch (java.util.concurrent.CancellationException stopping) {
            // the broker is stopping; what the pass moved so far is sound, the rest waits for the next start
        } catch (Exception e) {
            log.warn("reclaiming a data file failed, tried again at the next check: {}", e.toString());
        }
    }

    public synchronized int runCleaner(long nowMs) {
        return compactor.runOnce(nowMs);
    }

    /** A producer the shard keeps idempotence state for, as DescribeProducers reports it. */
    public record ActiveProducer(long producerId, short epoch, int lastSequence, long lastTimestamp, int coordinatorEpoch,
                                 long currentTxnStartOffset) {}

    /**
     * The producers a shard holds state for, read from the store (what the committer last wrote; its in-memory table
     * belongs to its own thread).
     */
    public java.util.List<ActiveProducer> activeProducers(Shard shard) {
        java.util.List<ActiveProducer> out = new java.util.ArrayList<>();
        try (LogStore.RangeIterator range = store.iterate(store.producerFamily(), LogKeys.shardStart(shard.key()), LogKeys.shardEnd(shard.key()))) {
            org.rocksdb.RocksIterator it = range.it();
            for (it.seekToFirst(); it.isValid(); it.next()) {
                ProducerEntry e = ProducerEntry.decode(it.value());
                out.add(new ActiveProducer(LogKeys.offset(it.key()), e.epoch(), e.lastSequence(), e.lastTimestamp(), e.coordinatorEpoch(),
                        e.txnFirstOffset()));
            }
            range.check();
        }
        return out;
    }

    public CleanerStats cleanerStats() {
        return cleanerStats;
    }

    /** Runs retention now (tests and the admin API); normally it runs every log.retention.check.interval.ms. */
    public void runRetention(long nowMs) {
        retention.runOnce(nowMs);
    }

    public void refreshDiskSpace() {
        diskGuard.refresh();
    }

    private static void awaitQuietly(java.util.concurrent.ExecutorService executor, String what) {
        try {
            if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
                log.warn("the {} thread did not finish its task within 30 s of the stop; stopping without it", what);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public TopicCatalog catalog() { return catalog; }
    public PendingWrites pendingWrites() { return pending; }
    public ShardReader reader() { return reader; }
    public ProducerIdAllocator producerIds() { return producerIds; }
    public DiskSpaceGuard diskGuard() { return diskGuard; }
    public LogStore store() { return store; }
    GroupCommitAppender appender() { return appender; }

    @Override
    public void close() {
        // no interrupts: one during a FileChannel read or force closes that channel for every thread, and a periodic
        // WAL sync cut short that way would halt the broker as a failed disk would
        scheduler.shutdown();
        cleaner.shutdown();
        compactor.stop();
        reclaimer.stop();
        awaitQuietly(scheduler, "log maintenance");
        awaitQuietly(cleaner, "log cleaner");
        appender.close();
        catalog.shards().forEach(shard -> shard.tail().clear());
        store.close();
    }
}
