package io.capstan.broker.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import io.capstan.cluster.DaemonThreads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Record batches in append-only files beside RocksDB (decision 0027): the only copy of a batch written here, so the
 * disk sees each produced byte once (plus a {@link BatchRef} in RocksDB) instead of in RocksDB's WAL, its flush and its
 * compactions. Batches of every shard are appended in commit order; {@link #force} makes them durable before the
 * RocksDB write-ahead log that holds their references is synced, so a synced reference never points at bytes the disk
 * may not have. A file is deleted once no reference points into it any more (retention, truncation, compaction), a
 * while later ({@code deleteDelayMs}, as Kafka's file.delete.delay.ms) so that a fetch that read a reference just
 * before can still read the batch.
 *
 * <p>Threads: {@link #append} and {@link #flush} on the committer thread, {@link #force} on the WAL-sync thread,
 * {@link #read} on any.
 */
public final class DataFiles implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DataFiles.class);
    /** Batches smaller than this stay inline in RocksDB: a reference would be a large share of them. */
    public static final int MIN_BATCH_BYTES = 512;
    static final String DIR = "batches";
    private static final String SUFFIX = ".batches";

    private final Path dir;
    private final long rollBytes;
    private final long deleteDelayMs;
    private final Map<Integer, FileChannel> channels = new ConcurrentHashMap<>();
    /** Bytes each file holds that a reference still points at; the committer's view, changed only after a durable write. */
    private final Map<Integer, Long> live = new ConcurrentHashMap<>();
    private final ScheduledExecutorService deleter = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("capstan-data-file-deleter"));
    /**
     * Up to where every file was durable at the last sync of the run before this one, as recorded in RocksDB: only a
     * reference beyond it may point at bytes a crash lost. {@link #NOTHING_SYNCED} when none was recorded.
     */
    private volatile long syncedBeforeStart = NOTHING_SYNCED;
    static final long NOTHING_SYNCED = -1;
    /** Up to where the data files are durable now, as {@link #mark}: set by {@link #force}, recorded by the committer. */
    private volatile long synced = NOTHING_SYNCED;

    // committer thread (active is read by the sync thread too)
    private volatile int active;
    /** Where the next appended batch goes in the active file (ahead of {@link #fileEnd} by what waits for a flush). */
    private long end;
    /** Where the active file's written bytes end: the next flush writes from here, by position. */
    private long fileEnd;
    /** Batches are copied here and written with positional writes, so a failed write leaves nothing to undo. */
    private ByteBuffer staging = ByteBuffer.allocateDirect(1 << 20);
    /** Up to where batches were written to the files ({@link #mark}): what a force covers. */
    private volatile long flushed = NOTHING_SYNCED;
    private final List<ByteBuffer> unwritten = new ArrayList<>();
    private final CRC32C crc = new CRC32C();
    /** Files written since the last force (the active one and any rolled meanwhile); the syncer takes them. */
    private final java.util.Set<Integer> unforced = ConcurrentHashMap.newKeySet();
    /** Whether each round is framed with its RocksDB write ({@link RoundHeader}, format 3): the files are the index's redo log. */
    private final boolean rounds;
    // committer thread, with rounds
    private boolean roundOpen;
    /** Where the open round's header goes in the active file. */
    private long roundStart;
    /** Whether the open round reached the file (its RocksDB write had not yet been made). */
    private boolean roundWritten;
    /** Where the next file begins: a deleted file kept or one written with zeros (decision 0034); null without rounds. */
    private final SpareDataFile spare;
    /** Whether the active file began as a spare: longer than what was appended to it, the rest zeros or old rounds. */
    private boolean activePreallocated;
    /** Where the last round written ended ({@link #mark}): what the next round's header says it follows. */
    private long lastRoundEnd;
    /** What the open round follows. */
    private long roundFollows;
    /** A round's header and trailer, written from here by {@link #flush} before the next round reuses them. */
    private final ByteBuffer roundHead = ByteBuffer.allocate(RoundHeader.BYTES);
    private final ByteBuffer roundTrailer = ByteBuffer.allocate(RoundHeader.TRAILER_BYTES);

    DataFiles(Path dir, long rollBytes, long deleteDelayMs) {
        this(dir, rollBytes, deleteDelayMs, false);
    }

    DataFiles(Path dir, long rollBytes, long deleteDelayMs, boolean rounds) {
        this(dir, rollBytes, deleteDelayMs, rounds, false);
    }

    /**
     * With rounds, each file is begun on a spare when one is ready (decision 0034): a full data file kept when deleted,
     * or with {@code preallocate} one written with zeros ahead of need. A replay stops after a file's last round at the
     * zeros or old rounds that follow it as it stops at a file's end.
     */
    DataFiles(Path dir, long rollBytes, long deleteDelayMs, boolean rounds, boolean preallocate) {
        if (preallocate && !rounds) {
            throw new IllegalArgumentException("preallocated data files need rounds: without them a start reads the files to their end");
        }
        this.dir = dir;
        this.rollBytes = rollBytes;
        this.deleteDelayMs = deleteDelayMs;
        this.rounds = rounds;
        int newest = 0;
        try {
            Files.createDirectories(dir);
            try (Stream<Path> files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    String name = p.getFileName().toString();
                    if (name.endsWith(SUFFIX)) {
                        int id = Integer.parseInt(name.substring(0, name.length() - SUFFIX.length()));
                        channels.put(id, FileChannel.open(p, StandardOpenOption.READ));
                        live.put(id, 0L);
                        newest = Math.max(newest, id);
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            throw new StorageException("cannot open the data files in " + dir + ": " + e.getMessage(), e);
        }
        this.spare = rounds ? new SpareDataFile(dir, rollBytes, preallocate) : null;
        // each run appends to a file of its own: the last one's tail may hold bytes a crash cut short
        openActive(newest + 1);
        lastRoundEnd = mark(active, 0);
    }

    static Path dir(Path dataDir) {
        return dataDir.resolve(DIR);
    }

    private Path path(int id) {
        return dir.resolve(String.format("%010d%s", id, SUFFIX));
    }

    private void openActive(int id) {
        try {
            boolean preallocated = spare != null && spare.takeAs(path(id));
            FileChannel channel = preallocated
                    ? FileChannel.open(path(id), StandardOpenOption.WRITE, StandardOpenOption.READ)
                    : FileChannel.open(path(id), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ);
            if (preallocated) {
                log.info("data file {} begun on a spare of {} bytes", path(id), rollBytes);
            }
            activePreallocated = preallocated;
            channels.put(id, channel);
            live.put(id, 0L);
            active = id;
            end = 0;
            fileEnd = 0;
            forceDirectory();
        } catch (IOException e) {
            throw new StorageException("cannot create data file " + path(id) + ": " + e.getMessage(), e);
        }
    }

    /** Appends a batch (written at the next {@link #flush}) and returns its reference. Committer thread. */
    byte[] append(byte[] batch) {
        return append(ByteBuffer.wrap(batch));
    }

    /**
     * The same for a batch in a buffer (its position to its limit), which must stay unchanged until the next
     * {@link #flush}: the bytes are read from it then.
     */
    byte[] append(ByteBuffer batch) {
        int length = batch.remaining();
        if (rounds) {
            openRound();
        } else if (end > 0 && end + length > rollBytes) {
            flush();
            openActive(active + 1);
        }
        crc.reset();
        crc.update(batch.duplicate());
        byte[] ref = BatchRef.encode(batch, active, end, (int) crc.getValue());
        unwritten.add(batch.duplicate());
        end += length;
        return ref;
    }

    /**
     * Writes what {@link #append} gathered, before the RocksDB write that holds its references. Committer thread. A
     * failure (a full disk) forgets the round's batches: their references are never written (the round is rolled
     * back), and the next round writes over what part of them reached the file.
     */
    void flush() {
        if (unwritten.isEmpty()) {
            return;
        }
        FileChannel channel = channels.get(active);
        long position = fileEnd;
        try {
            if (!channel.isOpen()) {
                channel = reopened(active, channel); // another thread's interrupt closed it
            }
            for (ByteBuffer batch : unwritten) {
                while (batch.hasRemaining()) {
                    if (!staging.hasRemaining()) {
                        position += writeStaged(channel, position);
                    }
                    int n = Math.min(batch.remaining(), staging.remaining());
                    staging.put(staging.position(), batch, batch.position(), n);
                    staging.position(staging.position() + n);
                    batch.position(batch.position() + n);
                }
            }
            position += writeStaged(channel, position);
        } catch (IOException e) {
            end = fileEnd;
            throw new StorageException("cannot write to data file " + path(active) + ": " + e.getMessage(), e);
        } finally {
            unwritten.clear();
            staging.clear();
        }
        fileEnd = position;
        unforced.add(active);
        flushed = mark(active, fileEnd);
    }

    /** Starts a round at the end of the active file, or of a new one once the active file is full: rounds never span two. */
    private void openRound() {
        if (roundOpen) {
            return;
        }
        if (end >= rollBytes) {
            openActive(active + 1);
        }
        if (spare != null && end >= rollBytes / 2) {
            spare.prepare(); // from half way, so that a broker that never fills a file never writes a spare
        }
        roundStart = end;
        end += RoundHeader.BYTES;
        roundOpen = true;
    }

    /**
     * Writes the round: its header, the batches {@link #append} gathered and the round's RocksDB write ({@code write},
     * as {@link org.rocksdb.WriteBatch#data}) with its CRC. Returns where the round ends, which the RocksDB write then
     * records as where the next round starts (the point a replay begins from). Committer thread, before that write.
     */
    long flushRound(byte[] write) {
        openRound();
        roundFollows = lastRoundEnd;
        RoundHeader header = new RoundHeader((int) (end - roundStart - RoundHeader.BYTES), write.length, roundFollows);
        roundHead.clear();
        header.encode(roundHead);
        unwritten.add(0, roundHead.flip());
        unwritten.add(ByteBuffer.wrap(write));
        unwritten.add(roundTrailer.clear().putInt(0, RoundHeader.trailer(write)));
        end += write.length + RoundHeader.TRAILER_BYTES;
        roundOpen = false;
        flush();
        roundWritten = true;
        lastRoundEnd = mark(active, end);
        return lastRoundEnd;
    }

    /** Where the next round will start when none was written yet in this run: what a replay begins from after this start. */
    long nextRound() {
        return lastRoundEnd;
    }

    /** After {@link #flushRound} the round's RocksDB write was made; the next round is a new one. Committer thread. */
    void roundDone() {
        roundWritten = false;
    }

    /**
     * The round being committed failed (its RocksDB write, or the file write itself): its batches are forgotten. A round
     * that reached the file is turned into one a replay skips, so that a crash cannot bring back what its producers were
     * told failed; the space stays, and the next round follows it. Committer thread.
     */
    void abandonRound() {
        unwritten.clear();
        staging.clear();
        if (!rounds) {
            end = fileEnd;
            return;
        }
        if (roundWritten) {
            long length = end - roundStart;
            RoundHeader skipped = new RoundHeader((int) (length - RoundHeader.BYTES - RoundHeader.TRAILER_BYTES), 0, roundFollows);
            ByteBuffer head = ByteBuffer.allocate(RoundHeader.BYTES);
            skipped.encode(head);
            try {
                FileChannel channel = channels.get(active);
                channel.write(head.flip(), roundStart);
                channel.write(ByteBuffer.allocate(RoundHeader.TRAILER_BYTES).putInt(0, RoundHeader.trailer(new byte[0])), end - RoundHeader.TRAILER_BYTES);
            } catch (IOException e) {
                log.error("could not mark the failed round at {} of {} as skipped ({}); if the broker crashes before its next round"
                        + " is synced, a restart may keep that round's records although their producers were told they failed", roundStart,
                        path(active), e.toString());
            }
            roundWritten = false;
        } else {
            end = fileEnd;
        }
        roundOpen = false;
    }

    private int writeStaged(FileChannel channel, long position) throws IOException {
        staging.flip();
        int n = staging.remaining();
        while (staging.hasRemaining()) {
            channel.write(staging, position + (n - staging.remaining()));
        }
        staging.clear();
        return n;
    }

    /**
     * Makes every written batch durable (fdatasync). WAL-sync thread, before the RocksDB WAL sync; the committer too,
     * before writing references to batches it moved.
     */
    synchronized void force() throws IOException {
        if (unforced.isEmpty()) {
            return;
        }
        // read before the files are taken: every byte it covers was written to one of them by then
        long written = flushed;
        for (Integer id : List.copyOf(unforced)) {
            unforced.remove(id);
            FileChannel channel = channels.get(id);
            if (channel != null) {
                try {
                    channel.force(false);
                } catch (java.nio.channels.ClosedByInterruptException e) {
                    // fsync reaches the file's dirty pages through any descriptor of it
                    afterInterrupt(id, channel, reopened -> {
                        reopened.force(false);
                        return null;
                    });
                }
            }
        }
        synced = written;
    }

    /**
     * A position in the files as one number: file then offset in it, so that a later position is a larger number.
     * (Read by the sync thread while the committer appends: a mark taken then may be a little behind; never ahead.)
     */
    static long mark(int file, long position) {
        return ((long) file << 40) | position;
    }

    /** Up to where the files are known durable, for the committer to record with its next write. */
    long synced() {
        return synced;
    }

    /** What the run before recorded as durable (from RocksDB), before {@link #survivedCrash} is asked. */
    void syncedBeforeStart(long mark) {
        this.syncedBeforeStart = mark;
    }

    /** Reads the batch a reference points at, checking its CRC. Any thread. */
    byte[] read(byte[] ref) {
        int id = BatchRef.file(ref);
        long position = BatchRef.position(ref);
        byte[] batch = new byte[BatchRef.batchLength(ref)];
        FileChannel channel = channels.get(id);
        if (channel == null) {
            throw new StorageException("data file " + path(id) + " is gone but the log still refers to it (at " + position + "). "
                    + LogStore.DAMAGED_ADVICE);
        }
        try {
            boolean whole;
            try {
                whole = readFully(channel, batch, position);
            } catch (java.nio.channels.ClosedByInterruptException e) {
                whole = afterInterrupt(id, channel, reopened -> readFully(reopened, batch, position));
            }
            if (!whole) {
                throw new StorageException("data file " + path(id) + " ends before the batch at " + position + " ("
                        + batch.length + " bytes). " + LogStore.DAMAGED_ADVICE);
            }
        } catch (IOException e) {
            throw new StorageException("cannot read data file " + path(id) + ": " + e.getMessage(), e);
        }
        if (!intact(ref, batch)) {
            throw new StorageException("the batch at " + position + " of data file " + path(id) + " fails its CRC32C check. "
                    + LogStore.DAMAGED_ADVICE);
        }
        return batch;
    }

    /**
     * A read or fsync again after an interrupt of the calling thread closed the file's channel (the JDK closes a FileChannel for
     * every thread when one is interrupted in it): the file is reopened, so that one thread's interrupt is not taken for
     * a failed disk by all the others, and the interrupt is kept for its owner.
     */
    private <T> T afterInterrupt(int id, FileChannel closed, ChannelCall<T> call) throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            return call.on(reopened(id, closed));
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private interface ChannelCall<T> {
        T on(FileChannel channel) throws IOException;
    }

    /** The file's channel once more, opened as before, unless it was replaced or the file deleted meanwhile. */
    private synchronized FileChannel reopened(int id, FileChannel closed) throws IOException {
        FileChannel now = channels.get(id);
        if (now == null) {
            throw new java.nio.channels.ClosedChannelException(); // deleted meanwhile
        }
        if (now != closed) {
            return now; // another thread reopened it first
        }
        FileChannel fresh = id == active
                ? FileChannel.open(path(id), StandardOpenOption.WRITE, StandardOpenOption.READ)
                : FileChannel.open(path(id), StandardOpenOption.READ);
        channels.put(id, fresh);
        return fresh;
    }

    /** Reads {@code into.length} bytes at {@code position}; false when the file ends first. */
    private static boolean readFully(FileChannel channel, byte[] into, long position) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(into);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean intact(byte[] ref, byte[] batch) {
        CRC32C c = new CRC32C();
        c.update(batch, 0, batch.length);
        return (int) c.getValue() == BatchRef.crc(ref);
    }

    /**
     * Whether a reference found at start still points at the bytes it was written for. Only one beyond what the last run
     * recorded as synced can point at bytes a crash lost (its round's WAL reached the disk, its data sync did not); any
     * other is trusted here and checked when read, where a mismatch is damage, not a lost tail.
     */
    boolean survivedCrash(byte[] ref) {
        if (mark(BatchRef.file(ref), BatchRef.position(ref) + BatchRef.batchLength(ref)) <= syncedBeforeStart) {
            return true;
        }
        FileChannel channel = channels.get(BatchRef.file(ref));
        if (channel == null) {
            return false;
        }
        try {
            byte[] batch = new byte[BatchRef.batchLength(ref)];
            return readFully(channel, batch, BatchRef.position(ref)) && intact(ref, batch);
        } catch (IOException e) {
            throw new StorageException("cannot read data file " + path(BatchRef.file(ref)) + ": " + e.getMessage(), e);
        }
    }

    /** What a replay does with each round's RocksDB write. */
    interface RoundWrite {
        void apply(byte[] write) throws Exception;
    }

    /**
     * Applies, in file order, the RocksDB write of every intact round from {@code next} on (a {@link #mark} where a
     * round starts, or a file ends), and returns how many were applied. It stops at the first round that is cut short,
     * fails its CRC or does not follow the round before it: a crash can leave only unacknowledged rounds from there on
     * (each acknowledgement came after an fsync of every file written until then). Called once at start, before any append.
     */
    int replayRounds(long next, RoundWrite apply) throws Exception {
        int file = (int) (next >>> 40);
        long position = next & ((1L << 40) - 1);
        long expected = next;
        int applied = 0;
        ByteBuffer head = ByteBuffer.allocate(RoundHeader.BYTES);
        while (true) {
            FileChannel channel = channels.get(file);
            if (channel == null) {
                // the file the point is in was deleted once nothing referred to it, its last round ending the file: the
                // next file's first round says whether it follows that end
                if (position == 0 || !channels.containsKey(file + 1)) {
                    break;
                }
                file++;
                position = 0;
                continue;
            }
            long size = channel.size();
            if (position >= size) {
                // a round that starts the next file follows this one's last round: the chain says so
                if (position > size || !channels.containsKey(file + 1)) {
                    break;
                }
                file++;
                position = 0;
                continue;
            }
            head.clear();
            if (!readFully(channel, head.array(), position)) {
                break;
            }
            RoundHeader header = RoundHeader.decode(head);
            if (header == null || header.follows() != expected || position + header.length() > size) {
                break;
            }
            byte[] write = new byte[header.writeBytes()];
            byte[] trailer = new byte[RoundHeader.TRAILER_BYTES];
            if (!readFully(channel, write, position + header.writeOffset())
                    || !readFully(channel, trailer, position + header.writeOffset() + write.length)
                    || ByteBuffer.wrap(trailer).getInt() != RoundHeader.trailer(write)) {
                break;
            }
            if (write.length > 0) {
                apply.apply(write);
            }
            applied++;
            position += header.length();
            expected = mark(file, position);
        }
        return applied;
    }

    /** Adds (or, negative, removes) bytes references point at in a file. Committer thread, after a successful write. */
    void referenced(int file, long bytes) {
        live.merge(file, bytes, Long::sum);
    }

    /**
     * The closed file with the most bytes no reference points at, if they are at least {@code reclaimRatio} of it and
     * some are still referenced (a file with none goes by itself); -1 when there is none.
     */
    int mostlyDead(double reclaimRatio) {
        int victim = -1;
        long mostDead = 0;
        for (Map.Entry<Integer, Long> e : live.entrySet()) {
            int id = e.getKey();
            FileChannel channel = channels.get(id);
            if (id == active || channel == null || e.getValue() <= 0) {
                continue;
            }
            long size;
            try {
                size = channel.size();
            } catch (IOException closed) {
                continue; // deleted meanwhile
            }
            long dead = size - e.getValue();
            if (dead >= reclaimRatio * size && dead > mostDead) {
                victim = id;
                mostDead = dead;
            }
        }
        return victim;
    }

    /** Whether the file is still open here (not deleted). */
    boolean exists(int file) {
        return channels.containsKey(file);
    }

    /** Bytes references point at, in every file. */
    long liveBytes() {
        long total = 0;
        for (long bytes : live.values()) {
            total += bytes;
        }
        return total;
    }

    /** Bytes a reference still points at in the file. */
    long liveBytes(int file) {
        return live.getOrDefault(file, 0L);
    }

    /** Every data file there is. */
    java.util.Set<Integer> files() {
        return java.util.Set.copyOf(live.keySet());
    }

    /** Whether no reference points into the file any more (and it is not the one being appended to). */
    boolean unreferenced(int file) {
        Long bytes = live.get(file);
        return file != active && bytes != null && bytes <= 0;
    }

    /**
     * Deletes, after the delay, those of {@code candidates} no reference points into. Call only once the RocksDB write
     * that dropped their last references is durable: a crash before would bring the references back.
     */
    void deleteUnreferenced(java.util.Collection<Integer> candidates) {
        for (int id : candidates) {
            // removed from the count first: a file is scheduled once, and no reference can point into it again
            if (unreferenced(id) && live.remove(id) != null) {
                deleter.schedule(() -> delete(id), deleteDelayMs, TimeUnit.MILLISECONDS);
            }
        }
    }

    private void delete(int id) {
        FileChannel channel = channels.remove(id);
        try {
            if (channel != null) {
                channel.close();
            }
            if (spare != null && spare.recycle(path(id))) { // a file already gone throws NoSuchFileException, caught below
                log.debug("data file {} kept as the spare the next one begins on: no batch in it is referenced any more", path(id));
                return;
            }
            Files.deleteIfExists(path(id));
            log.debug("deleted data file {}: no batch in it is referenced any more", path(id));
        } catch (NoSuchFileException ignored) {
            // already gone
        } catch (IOException e) {
            log.warn("could not delete the unreferenced data file {} ({}); it is deleted at the next start", path(id), e.toString());
        }
    }

    /** Bytes of every data file on disk. */
    public long bytesOnDisk() {
        long total = 0;
        for (FileChannel c : channels.values()) {
            try {
                total += c.size();
            } catch (IOException ignored) {
                // closed by a deletion meanwhile
            }
        }
        return total;
    }

    private void forceDirectory() {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            throw new StorageException("cannot sync the data file directory " + dir + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        deleter.shutdownNow();
        if (spare != null) {
            spare.close();
        }
        if (activePreallocated && !roundOpen) {
            // what lies past the last round (zeros, old rounds) is not needed again: the next start appends to a file of its own
            try {
                FileChannel channel = channels.get(active);
                if (channel != null && channel.isOpen()) {
                    channel.truncate(fileEnd);
                    channel.force(true);
                }
            } catch (IOException e) {
                log.warn("could not cut the unused end of data file {} ({}); it is reclaimed with the file", path(active), e.toString());
            }
        }
        for (FileChannel c : channels.values()) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}
