package io.capstan.broker.log;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.Env;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.SstFileManager;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteBufferManager;
import org.rocksdb.WriteOptions;
import org.rocksdb.Status;
import org.rocksdb.WALRecoveryMode;

/**
 * The one RocksDB of a broker's data directory and its column families: {@code log} (batches by shard and base
 * offset, or with {@code log.data.files} a {@link BatchRef} to where the batch is in the {@link DataFiles}),
 * {@code producers} (idempotent producer state by shard and producer id) and {@code meta} (topics, id
 * counters). Owns every native handle; nothing else opens or closes RocksDB objects that outlive a call.
 */
public final class LogStore implements AutoCloseable {
    static {
        RocksDB.loadLibrary();
    }

    private final RocksDB db;
    private final DBOptions dbOptions;
    private final List<ColumnFamilyOptions> cfOptions = new ArrayList<>();
    private final List<ColumnFamilyHandle> handles = new ArrayList<>();
    private final LRUCache blockCache;
    private final WriteBufferManager writeBufferManager;
    private final SstFileManager sstFileManager;
    private final WriteOptions syncWrite;
    private final WriteOptions asyncWrite;
    private final ColumnFamilyHandle log;
    private final ColumnFamilyHandle producers;
    private final ColumnFamilyHandle meta;
    private final ColumnFamilyHandle abortedTxns;
    private final Path dir;
    private final boolean createdNow;
    /** Where batches are read from when the log refers to them (format 2), or null: every batch is inline. */
    private final DataFiles dataFiles;
    /** Whether new batches go to data files ({@code log.data.files}); reading them needs only {@link #dataFiles}. */
    private final boolean appendToDataFiles;
    /** Whether each round is framed in the data files with its RocksDB write, which is then their redo log (format 3). */
    private final boolean writesRounds;

    /** What to do about damaged files, said wherever the broker finds them. */
    public static final String DAMAGED_ADVICE = "Nothing was repaired or dropped. In a replicated cluster, move this data.dir aside"
            + " and restart the broker: it starts empty, leaves every in-sync replica set and copies its shards again from their"
            + " leaders. A broker without replicas cannot get the damaged records back: restore data.dir from a backup.";

    public LogStore(Path dir, long blockCacheBytes, long writeBufferBytes) {
        this(dir, blockCacheBytes, writeBufferBytes, false);
    }

    public LogStore(Path dir, long blockCacheBytes, long writeBufferBytes, boolean blobFiles) {
        this(dir, blockCacheBytes, writeBufferBytes, blobFiles, false, DEFAULT_DATA_FILE_BYTES, DATA_FILE_DELETE_DELAY_MS);
    }

    /**
     * {@code dataFiles}: append new batches to data files beside RocksDB (decision 0027) instead of into it, each file
     * closed at {@code dataFileBytes} and deleted {@code deleteDelayMs} after nothing refers to it.
     */
    public LogStore(Path dir, long blockCacheBytes, long writeBufferBytes, boolean blobFiles, boolean dataFiles, long dataFileBytes,
                    long deleteDelayMs) {
        this(dir, blockCacheBytes, writeBufferBytes, blobFiles, dataFiles, dataFiles, dataFileBytes, deleteDelayMs);
    }

    /**
     * {@code rounds}: with {@code dataFiles}, frame each round with its RocksDB write in the data files (format 3,
     * decision 0033), so that an acknowledgement waits for the data files' fsync alone; false keeps format 2 (the
     * data files and then RocksDB's WAL synced for each round), for a cluster version that does not allow format 3.
     */
    public LogStore(Path dir, long blockCacheBytes, long writeBufferBytes, boolean blobFiles, boolean dataFiles, boolean rounds,
                    long dataFileBytes, long deleteDelayMs) {
        this(dir, blockCacheBytes, writeBufferBytes, blobFiles, dataFiles, rounds, dataFileBytes, false, deleteDelayMs);
    }

    /**
     * {@code preallocate}: with rounds, begin data files on spares written with zeros ahead of need (log.preallocate,
     * decision 0034).
     */
    public LogStore(Path dir, long blockCacheBytes, long writeBufferBytes, boolean blobFiles, boolean dataFiles, boolean rounds,
                    long dataFileBytes, boolean preallocate, long deleteDelayMs) {
        this.dir = dir;
        this.appendToDataFiles = dataFiles;
        boolean redoRequested = dataFiles && rounds;
        this.createdNow = isNew(dir);
        try {
            Files.createDirectories(dir);
            blockCache = new LRUCache(blockCacheBytes);
            writeBufferManager = new WriteBufferManager(writeBufferBytes * 2, blockCache);
            sstFileManager = new SstFileManager(Env.getDefault());
            dbOptions = new DBOptions()
                    .setCreateIfMissing(true)
                    .setCreateMissingColumnFamilies(true)
                    .setMaxBackgroundJobs(2)
                    .setBytesPerSync(1 << 20)
                    .setWriteBufferManager(writeBufferManager)
                    .setSstFileManager(sstFileManager)
                    // only a record cut short at the very end (a crash mid-write) may be dropped; damage anywhere else in
                    // the WAL fails the open instead of silently dropping every acknowledged record after it. With rounds
                    // in the data files the WAL is synced only now and then, and a power loss may leave any part of its
                    // unsynced end unwritten: RocksDB keeps the consistent prefix and the data files redo the rest
                    .setWalRecoveryMode(redoRequested ? WALRecoveryMode.PointInTimeRecovery : WALRecoveryMode.TolerateCorruptedTailRecords);
            List<ColumnFamilyDescriptor> descriptors = List.of(
                    new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, options(4 << 20, CompressionType.NO_COMPRESSION)),
                    new ColumnFamilyDescriptor(bytes("log"), blobFiles ? blobOptions(writeBufferBytes)
                            : options(writeBufferBytes, CompressionType.NO_COMPRESSION)),
                    new ColumnFamilyDescriptor(bytes("producers"), options(4 << 20, CompressionType.LZ4_COMPRESSION)),
                    new ColumnFamilyDescriptor(bytes("meta"), options(1 << 20, CompressionType.NO_COMPRESSION)),
                    new ColumnFamilyDescriptor(bytes("aborted-txns"), options(1 << 20, CompressionType.LZ4_COMPRESSION)));
            db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
            log = handles.get(1);
            producers = handles.get(2);
            meta = handles.get(3);
            abortedTxns = handles.get(4);
            syncWrite = new WriteOptions().setSync(true);
            asyncWrite = new WriteOptions().setSync(false);
            int found = createdNow ? 0 : formatVersion();
            int wanted = Math.max(found, redoRequested ? ROUNDS_FORMAT : dataFiles ? DATA_FILES_FORMAT : INLINE_FORMAT);
            if (found > FORMAT_VERSION) {
                close();
                throw new StorageException("the log in " + dir + " is in on-disk format " + found + ", written by a newer Capstan; this"
                        + " broker reads formats up to " + FORMAT_VERSION + " and left its records as they are. Run the Capstan version that"
                        + " wrote it (or a newer one) on this data.dir; going back to an older version is possible only before a"
                        + " newer format was written (docs/operations.md, \"Going back to an older version\")");
            }
            try (WriteBatch batch = new WriteBatch()) {
                if (createdNow) {
                    batch.put(meta, bytes(FRESH_LOG_KEY), new byte[] {1});
                }
                if (found < wanted) {
                    // a store from before format versions (0) is format 1: the same layout, now labelled. Format 2 is
                    // recorded before the first reference to a data file is written: a build that reads only format 1
                    // would take a reference for a batch
                    batch.put(meta, bytes(FORMAT_KEY), java.nio.ByteBuffer.allocate(4).putInt(wanted).array());
                }
                if (batch.count() > 0) {
                    db.write(syncWrite, batch);
                }
            }
            this.writesRounds = dataFiles && wanted >= ROUNDS_FORMAT;
            this.dataFiles = wanted >= DATA_FILES_FORMAT ? new DataFiles(DataFiles.dir(dir), dataFileBytes, deleteDelayMs, writesRounds,
                    writesRounds && preallocate) : null;
            if (this.dataFiles != null) {
                syncMark = new IndexSyncMark(dir);
                replayRounds();
            }
        } catch (RocksDBException e) {
            if (e.getStatus() != null && e.getStatus().getCode() == Status.Code.Corruption) {
                throw new StorageException("the log in " + dir + " is damaged and was not opened (RocksDB: " + e.getMessage() + "). "
                        + DAMAGED_ADVICE, e);
            }
            throw new StorageException("cannot open the log in " + dir + ": " + e.getMessage()
                    + " (is another broker using this data.dir?)", e);
        } catch (java.io.IOException e) {
            throw new StorageException("cannot open the log in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Rebuilds the rounds RocksDB lost (its WAL is not synced for each round when the data files hold them) from the data
     * files, from where the last round RocksDB has says the next one starts; then records where this run's first round
     * will start, durably, so that a later replay never has to cross the cut-off end a crash left in an older file.
     */
    private void replayRounds() throws RocksDBException {
        byte[] next = getMeta(NEXT_ROUND_KEY);
        long synced = syncMark.read();
        if (synced != IndexSyncMark.NONE && (next == null || java.nio.ByteBuffer.wrap(next).getLong() < synced)) {
            // point-in-time recovery kept only a prefix of what RocksDB had synced: damage, not a crash's unsynced end
            throw new StorageException("the log in " + dir + " is damaged and was not opened (RocksDB's write-ahead log lost writes it"
                    + " had synced: its index ends before data-file mark " + synced + "). " + DAMAGED_ADVICE);
        }
        int replayed = 0;
        if (next != null) {
            try {
                replayed = dataFiles.replayRounds(java.nio.ByteBuffer.wrap(next).getLong(), write -> {
                    try (WriteBatch batch = new WriteBatch(write)) {
                        db.write(asyncWrite, batch);
                    }
                });
            } catch (RocksDBException e) {
                throw e;
            } catch (Exception e) {
                throw new StorageException("cannot replay the rounds in the data files of " + dir + ": " + e.getMessage(), e);
            }
            if (replayed > 0) {
                org.slf4j.LoggerFactory.getLogger(LogStore.class).info("rebuilt {} group-commit rounds of the log index from the data"
                        + " files (written and synced there, not yet in RocksDB's synced write-ahead log)", replayed);
            }
        }
        try (WriteBatch batch = new WriteBatch()) {
            if (writesRounds) {
                batch.put(meta, bytes(NEXT_ROUND_KEY), longBytes(dataFiles.nextRound()));
            } else if (next != null) {
                batch.delete(meta, bytes(NEXT_ROUND_KEY)); // this run writes no rounds: nothing to replay after it
            }
            if (batch.count() > 0) {
                db.write(syncWrite, batch); // also makes the replayed rounds durable in RocksDB
            }
        }
        try {
            if (writesRounds) {
                appliedNext = dataFiles.nextRound();
                syncMark.record(appliedNext);
            } else {
                syncMark.delete();
            }
        } catch (java.io.IOException e) {
            throw new StorageException("cannot record how far the log's index is synced in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Where the round after the last one written to RocksDB starts; what a sync of its WAL covers. */
    private volatile long appliedNext = IndexSyncMark.NONE;
    private long writtenNext = IndexSyncMark.NONE;
    private IndexSyncMark syncMark;

    /** The round {@link #writeRoundData} framed is now in RocksDB (not yet synced there). Committer thread. */
    void roundApplied() {
        if (writesRounds) {
            appliedNext = writtenNext;
        }
    }

    private static byte[] longBytes(long v) {
        return java.nio.ByteBuffer.allocate(8).putLong(v).array();
    }

    /** Meta key of where the round after the last one in RocksDB starts in the data files ({@link DataFiles#mark}). */
    static final String NEXT_ROUND_KEY = "next-round";
    private static final byte[] NEXT_ROUND = bytes(NEXT_ROUND_KEY);

    /** Whether each round goes to the data files with its RocksDB write (format 3): an acknowledgement then needs only their fsync. */
    boolean writesRounds() {
        return writesRounds;
    }

    /**
     * Writes a round's data: its batches and, with rounds, its RocksDB write, which then records where the next round
     * starts. Committer thread, before {@link #write}.
     */
    void writeRoundData(WriteBatch batch) throws RocksDBException {
        if (!writesRounds) {
            dataFiles.flush();
            return;
        }
        long next = dataFiles.flushRound(batch.data());
        batch.put(meta, NEXT_ROUND, longBytes(next));
        writtenNext = next;
    }

    private ColumnFamilyOptions options(long writeBuffer, CompressionType compression) {
        BlockBasedTableConfig table = new BlockBasedTableConfig().setBlockCache(blockCache).setBlockSize(64 << 10);
        ColumnFamilyOptions o = new ColumnFamilyOptions()
                .setWriteBufferSize(writeBuffer)
                .setCompressionType(compression)
                .setLevelCompactionDynamicLevelBytes(true)
                .setTableFormatConfig(table);
        cfOptions.add(o);
        return o;
    }

    /** Batches go to blob files at flush; compaction then rewrites only the small keys (BlobDB). */
    private ColumnFamilyOptions blobOptions(long writeBuffer) {
        return options(writeBuffer, CompressionType.NO_COMPRESSION)
                .setEnableBlobFiles(true)
                .setMinBlobSize(0)
                .setBlobFileSize(256L << 20)
                .setBlobCompressionType(CompressionType.NO_COMPRESSION)
                .setEnableBlobGarbageCollection(true)
                .setBlobGarbageCollectionAgeCutoff(0.25);
    }

    static byte[] bytes(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    public Path dir() { return dir; }

    /** Set in a new store and kept until the broker has left the in-sync sets it held no records for (EmptyLogRejoin). */
    private static final String FRESH_LOG_KEY = "fresh-log";

    /**
     * The on-disk format this build writes: its column families and the encoding of their keys and values. A change
     * that an older build could misread takes the next number, with the step that upgrades a store written in the one
     * before; a broker refuses a store in a format newer than its own (issue 18; decision 0028).
     */
    public static final int FORMAT_VERSION = 3;

    /** Whether {@code dir} holds no log yet (a broker's first start on it). */
    public static boolean isNew(Path dir) {
        return !Files.exists(dir.resolve("CURRENT"));
    }
    /** Every batch inline in the {@code log} column family. */
    public static final int INLINE_FORMAT = 1;
    /** Batches of {@link DataFiles#MIN_BATCH_BYTES} or more may be in data files, the log holding a {@link BatchRef}. */
    public static final int DATA_FILES_FORMAT = 2;
    /** Each group-commit round is framed in the data files with its RocksDB write ({@link RoundHeader}, decision 0033). */
    public static final int ROUNDS_FORMAT = 3;
    static final long DEFAULT_DATA_FILE_BYTES = 256L << 20;
    /** As Kafka's file.delete.delay.ms: a fetch that read a reference just before the file went can still read it. */
    static final long DATA_FILE_DELETE_DELAY_MS = 60_000;
    static final String FORMAT_KEY = "format-version";

    /** The store's on-disk format: 0 for a store written before formats were recorded. */
    public int formatVersion() {
        byte[] v = getMeta(FORMAT_KEY);
        if (v == null) {
            return 0;
        }
        if (v.length != 4) {
            throw new StorageException("the log in " + dir + " records its on-disk format in " + v.length + " bytes instead of 4. " + DAMAGED_ADVICE);
        }
        return java.nio.ByteBuffer.wrap(v).getInt();
    }

    /**
     * True from the start that created this store (a new broker or a replaced disk) until {@link #freshLogHandled}: a
     * broker that stops in between still knows, at its next start, that its log began empty.
     */
    public boolean freshLog() {
        return createdNow || getMeta(FRESH_LOG_KEY) != null;
    }

    public void freshLogHandled() {
        try (WriteBatch batch = new WriteBatch()) {
            batch.delete(meta, bytes(FRESH_LOG_KEY));
            write(batch, true);
        } catch (RocksDBException e) {
            throw new StorageException("cannot record that the log was handed over: " + e.getMessage(), e);
        }
    }
    public ColumnFamilyHandle logFamily() { return log; }

    /**
     * Rewrites the files holding {@code [from, to)} of the log now, dropping the values compaction replaced or deleted
     * there; blocks until done. RocksDB would reclaim that space only when its own compactions reach those files, which
     * for a log no longer written may be never. Automatic compactions go on meanwhile.
     */
    public void compactRange(byte[] from, byte[] to) {
        try (org.rocksdb.CompactRangeOptions options = new org.rocksdb.CompactRangeOptions().setExclusiveManualCompaction(false)) {
            db.compactRange(log, from, to, options);
        } catch (RocksDBException e) {
            throw new StorageException("cannot compact the log range to reclaim space: " + e.getMessage(), e);
        }
    }

    /** Bytes of the log's table files and data files on disk (RocksDB's estimate, without the write-ahead log). */
    public long logFileBytes() {
        try {
            return db.getLongProperty(log, "rocksdb.total-sst-files-size") + (dataFiles == null ? 0 : dataFiles.bytesOnDisk());
        } catch (RocksDBException e) {
            throw new StorageException("cannot read the log's size: " + e.getMessage(), e);
        }
    }
    public ColumnFamilyHandle producerFamily() { return producers; }
    public ColumnFamilyHandle metaFamily() { return meta; }
    /** Each shard's aborted transactions by marker offset ({@link AbortedTxn}). */
    public ColumnFamilyHandle abortedTxnFamily() { return abortedTxns; }

    public void write(WriteBatch batch, boolean sync) throws RocksDBException {
        db.write(sync ? syncWrite : asyncWrite, batch);
    }

    /**
     * Makes every write so far durable: the data files first, then the WAL that refers to them (recording, with rounds,
     * how far that sync reached: {@link #syncIndex}).
     */
    public void syncWal() throws RocksDBException {
        if (dataFiles != null) {
            try {
                dataFiles.force();
            } catch (java.io.IOException e) {
                throw new StorageException("the fsync of the data files failed: " + e.getMessage(), e);
            }
        }
        syncIndex();
    }

    /**
     * Makes a round durable before it is acknowledged: with rounds, the data files alone (they hold the round's RocksDB
     * write too); otherwise as {@link #syncWal}.
     */
    void syncRound() throws RocksDBException {
        if (!writesRounds) {
            syncWal();
            return;
        }
        try {
            dataFiles.force();
        } catch (java.io.IOException e) {
            throw new StorageException("the fsync of the data files failed: " + e.getMessage(), e);
        }
    }

    /**
     * Syncs RocksDB's write-ahead log, which with rounds nothing else syncs for each round: this bounds how many rounds
     * a start replays from the data files. Any thread.
     */
    void syncIndex() throws RocksDBException {
        long covered = appliedNext; // read first: the sync covers that round's write, made before
        db.flushWal(true);
        if (writesRounds && covered != IndexSyncMark.NONE) {
            try {
                syncMark.record(covered);
            } catch (java.io.IOException e) {
                throw new StorageException("cannot record how far the log's index is synced: " + e.getMessage(), e);
            }
        }
    }

    /** The data files, or null when this store has none (format 1). */
    DataFiles dataFiles() {
        return dataFiles;
    }

    /**
     * The value to store for a batch about to be written: a reference to where it was appended in a data file, or the
     * batch itself (data files off, or a batch too small for a reference to pay). Committer thread.
     */
    byte[] logValue(byte[] batch) {
        if (appendToDataFiles && batch.length >= DataFiles.MIN_BATCH_BYTES) {
            return dataFiles.append(batch);
        }
        return batch;
    }

    /** As {@link #logValue(byte[])} for a batch in a buffer, which a data file takes from where it is; an inline one is copied. */
    byte[] logValue(ByteBuf batch) {
        int length = batch.readableBytes();
        if (appendToDataFiles && length >= DataFiles.MIN_BATCH_BYTES) {
            return dataFiles.append(batch.nioBuffer());
        }
        if (batch.hasArray() && batch.arrayOffset() + batch.readerIndex() == 0 && batch.array().length == length) {
            return batch.array(); // wraps exactly the batch's own array: nothing to copy
        }
        return ByteBufUtil.getBytes(batch);
    }

    /** The batch a {@code log} value stands for: itself, or what its reference points at in a data file. */
    public byte[] batch(byte[] value) {
        return BatchRef.is(value) ? dataFiles.read(value) : value;
    }

    /** From {@code offset} on, a shard's entries refer to batches a crash lost (their round's data sync never completed). */
    record LostTail(int shardKey, long offset, long bytes) {}

    /**
     * Once at start, before shards recover: counts the bytes each data file's references point at (what tells when a
     * file can go) and finds the shards whose last entries refer to bytes a crash lost. Such entries were never
     * acknowledged: their round's data sync is what would have come before the acknowledgement.
     */
    List<LostTail> countReferences() {
        if (dataFiles == null) {
            return List.of();
        }
        byte[] mark = getMeta(DATA_SYNCED_KEY);
        dataFiles.syncedBeforeStart(mark == null ? DataFiles.NOTHING_SYNCED : java.nio.ByteBuffer.wrap(mark).getLong());
        java.util.Map<Integer, long[]> lost = new java.util.LinkedHashMap<>();
        // only a reference's worth of each value is copied out: an inline batch is not read into the heap for this
        byte[] value = new byte[BatchRef.SIZE];
        try (ReadOptions options = new ReadOptions().setFillCache(false); RocksIterator it = db.newIterator(log, options)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] key = it.key();
                int length = it.value(value);
                boolean reference = length == BatchRef.SIZE && BatchRef.is(value);
                int shard = java.nio.ByteBuffer.wrap(key).getInt(0);
                long[] tail = lost.get(shard);
                if (reference) {
                    dataFiles.referenced(BatchRef.file(value), BatchRef.batchLength(value));
                    if (tail == null && !dataFiles.survivedCrash(value)) {
                        tail = new long[] {LogKeys.offset(key), 0};
                        lost.put(shard, tail);
                    }
                }
                if (tail != null) {
                    tail[1] += reference ? BatchRef.batchLength(value) : length;
                }
            }
            it.status();
        } catch (RocksDBException e) {
            throw new StorageException("the log in " + dir + " is damaged: " + e.getMessage() + ". " + DAMAGED_ADVICE, e);
        }
        dataFiles.deleteUnreferenced(dataFiles.files());
        List<LostTail> tails = new ArrayList<>();
        lost.forEach((shard, t) -> tails.add(new LostTail(shard, t[0], t[1])));
        return tails;
    }

    /** A log entry that points into a data file: its key and the reference. */
    record Reference(byte[] key, byte[] ref) {}

    /** What is done with each reference a scan finds; may block (the scan's snapshot of the log is held meanwhile). */
    interface ReferenceVisitor {
        void visit(Reference reference) throws Exception;
    }

    /** Every log entry that points into data file {@code file}, in key order (a scan of the whole log). */
    List<Reference> referencesInto(int file) throws Exception {
        List<Reference> found = new ArrayList<>();
        forEachReferenceInto(file, found::add);
        return found;
    }

    /** Visits every log entry that points into data file {@code file}, in key order, as the scan finds it. */
    void forEachReferenceInto(int file, ReferenceVisitor visitor) throws Exception {
        byte[] value = new byte[BatchRef.SIZE];
        try (ReadOptions options = new ReadOptions().setFillCache(false); RocksIterator it = db.newIterator(log, options)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                if (it.value(value) == BatchRef.SIZE && BatchRef.is(value) && BatchRef.file(value) == file) {
                    visitor.visit(new Reference(it.key(), value.clone()));
                }
            }
            it.status();
        } catch (RocksDBException e) {
            throw new StorageException("the log in " + dir + " is damaged: " + e.getMessage() + ". " + DAMAGED_ADVICE, e);
        }
    }

    /** Meta key of how far the data files were durable at the last sync the committer knew of ({@link DataFiles#mark}). */
    static final String DATA_SYNCED_KEY = "data-files-synced";

    /** Adds to a write how far the data files are durable, when that moved since the last one recorded. Committer thread. */
    void recordDataSynced(WriteBatch batch) throws RocksDBException {
        long synced = dataFiles.synced();
        if (synced != recordedSynced) {
            batch.put(meta, bytes(DATA_SYNCED_KEY), java.nio.ByteBuffer.allocate(8).putLong(synced).array());
            recordedSynced = synced;
        }
    }

    private long recordedSynced = DataFiles.NOTHING_SYNCED;

    /** A value of the {@code log} column family by key, or null. */
    byte[] logEntry(byte[] key) {
        try {
            return db.get(log, key);
        } catch (RocksDBException e) {
            throw new StorageException("cannot read the log: " + e.getMessage(), e);
        }
    }

    public byte[] getMeta(String key) {
        try {
            return db.get(meta, bytes(key));
        } catch (RocksDBException e) {
            throw new StorageException("cannot read metadata key " + key + ": " + e.getMessage(), e);
        }
    }

    /** Iterator over one shard's range of a column family; the caller closes both it and the options. */
    public RangeIterator iterate(ColumnFamilyHandle family, byte[] lower, byte[] upper) {
        return new RangeIterator(db, family, lower, upper);
    }

    public long dbProperty(String name) {
        try {
            return db.getAggregatedLongProperty(name);
        } catch (RocksDBException e) {
            return -1;
        }
    }

    @Override
    public void close() {
        try {
            if (dataFiles != null) {
                // a clean stop leaves nothing for the next start to check
                dataFiles.force();
                try (WriteBatch batch = new WriteBatch()) {
                    recordDataSynced(batch);
                    db.write(syncWrite, batch);
                }
            }
            db.flushWal(true);
        } catch (RocksDBException | java.io.IOException | RuntimeException ignored) {
            // closing anyway; the WAL already holds every acknowledged write when the policy is "always"
        }
        if (syncMark != null) {
            syncMark.close();
        }
        handles.forEach(ColumnFamilyHandle::close);
        db.close();
        if (dataFiles != null) {
            dataFiles.close();
        }
        syncWrite.close();
        asyncWrite.close();
        dbOptions.close();
        cfOptions.forEach(ColumnFamilyOptions::close);
        writeBufferManager.close();
        sstFileManager.close();
        blockCache.close();
    }

    /** A bounded RocksDB iterator with its native options, closed together. */
    public static final class RangeIterator implements AutoCloseable {
        private final ReadOptions options;
        private final org.rocksdb.Slice lowerSlice;
        private final org.rocksdb.Slice upperSlice;
        private final RocksIterator it;

        RangeIterator(RocksDB db, ColumnFamilyHandle family, byte[] lower, byte[] upper) {
            lowerSlice = new org.rocksdb.Slice(lower);
            upperSlice = new org.rocksdb.Slice(upper);
            options = new ReadOptions().setIterateLowerBound(lowerSlice).setIterateUpperBound(upperSlice);
            it = db.newIterator(family, options);
        }

        public RocksIterator it() { return it; }

        /**
         * Call when the iterator stops being valid: it also stops at a block it cannot read (a checksum mismatch), and only
         * its status tells that from the end of the range.
         */
        public void check() {
            try {
                it.status();
            } catch (RocksDBException e) {
                throw new StorageException("reading the log failed: " + e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            it.close();
            options.close();
            lowerSlice.close();
            upperSlice.close();
        }
    }
}
