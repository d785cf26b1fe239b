package io.capstan.cluster.metadata;

import io.capstan.cluster.DaemonThreads;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link MetadataStore} in a directory that several processes on one machine share (the local cluster of
 * {@code capstan cluster up}, and tests). Every change holds an exclusive lock on {@code .lock}, appends itself to the
 * {@link ChangeLog} (fsynced: the commit point, and where the store-wide revision comes from, so versions are never
 * reused even for a deleted and re-created key), then writes the key's file (a temporary file, fsynced, renamed over
 * it). A writer that died between the two is finished by the next one, which re-applies the last logged change.
 * Readers and watches never lock: a rename is all or nothing, and watches follow the change log, so a paused or
 * stopped process can hold up writers but never readers.
 */
public final class LocalFileMetadataStore implements MetadataStore {
    private static final String SUFFIX = ".meta";
    private static final Logger log = LoggerFactory.getLogger(LocalFileMetadataStore.class);
    /** Segments roll over at this size; a watch that falls more than a segment behind lists the store again. */
    static final long DEFAULT_SEGMENT_BYTES = 4L << 20;

    private final Path root;
    /**
     * File locks belong to the whole JVM, so two stores on one directory in one process (brokers of an in-process
     * test cluster) must also exclude each other here: one lock per directory, shared by every instance.
     */
    private static final java.util.concurrent.ConcurrentMap<Path, ReentrantLock> IN_PROCESS = new java.util.concurrent.ConcurrentHashMap<>();
    private final ReentrantLock inProcess;
    private final ChangeLog changes;
    /** Where this process last saw the log end (a hint, checked against the file under the lock). */
    private ChangeLog.Tail knownTail;
    private final List<FileWatch> watches = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService poller;
    /** One wake-up queued at a time: a burst of writes is read by one poll. */
    private final java.util.concurrent.atomic.AtomicBoolean wakeQueued = new java.util.concurrent.atomic.AtomicBoolean();

    public LocalFileMetadataStore(Path root, long pollIntervalMs) {
        this(root, pollIntervalMs, DEFAULT_SEGMENT_BYTES);
    }

    LocalFileMetadataStore(Path root, long pollIntervalMs, long segmentBytes) {
        this.root = root;
        this.inProcess = IN_PROCESS.computeIfAbsent(root.toAbsolutePath().normalize(), p -> new ReentrantLock());
        this.changes = new ChangeLog(root, segmentBytes);
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create metadata directory " + root, e);
        }
        this.poller = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("capstan-metadata-watch"));
        poller.scheduleWithFixedDelay(this::poll, pollIntervalMs, pollIntervalMs, TimeUnit.MILLISECONDS);
    }

    @Override
    public Optional<Versioned> get(String key) {
        Path file;
        try {
            file = file(key);
        } catch (IllegalArgumentException cannotBeStored) {
            return Optional.empty(); // nothing can have been written under it (a client's NUL byte in a topic name, say)
        }
        return read(key, file);
    }

    @Override
    public Map<String, Versioned> list(String prefix) {
        Map<String, Versioned> out = new TreeMap<>();
        try {
            // writers rename temp files into place while this walks: a file that vanished was replaced, not lost
            Files.walkFileTree(root, new java.nio.file.SimpleFileVisitor<>() {
                @Override
                public java.nio.file.FileVisitResult visitFile(Path p, java.nio.file.attribute.BasicFileAttributes attrs) {
                    if (p.getFileName().toString().endsWith(SUFFIX)) {
                        String key = keyOf(p);
                        if (key.startsWith(prefix)) {
                            read(key, p).ifPresent(v -> out.put(key, v));
                        }
                    }
                    return java.nio.file.FileVisitResult.CONTINUE;
                }

                @Override
                public java.nio.file.FileVisitResult visitFileFailed(Path p, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return java.nio.file.FileVisitResult.CONTINUE;
                    }
                    throw e;
                }
            });
        } catch (NoSuchFileException e) {
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list metadata under " + root, e);
        }
        return out;
    }

    @Override
    public long create(String key, byte[] value) throws ConflictException {
        return locked(tail -> {
            if (get(key).isPresent()) {
                throw new ConflictException(key + " already exists");
            }
            return put(tail, key, value);
        });
    }

    @Override
    public long compareAndSet(String key, long expectedVersion, byte[] value) throws ConflictException {
        return locked(tail -> {
            long current = get(key).map(Versioned::version).orElse(-1L);
            if (current != expectedVersion) {
                throw new ConflictException(key + " is at version " + current + ", not " + expectedVersion);
            }
            return put(tail, key, value);
        });
    }

    @Override
    public void delete(String key, long expectedVersion) throws ConflictException {
        locked(tail -> {
            long current = get(key).map(Versioned::version).orElse(-1L);
            if (current != expectedVersion) {
                throw new ConflictException(key + " is at version " + current + ", not " + expectedVersion);
            }
            ChangeLog.Tail next = changes.append(tail, key, null);
            knownTail = next;
            applyDelete(key);
            return next.revision();
        });
    }

    private long put(ChangeLog.Tail tail, String key, byte[] value) throws IOException {
        ChangeLog.Tail next = changes.append(tail, key, value);
        knownTail = next;
        writeFile(key, next.revision(), value);
        return next.revision();
    }

    @Override
    public AutoCloseable watch(String prefix, MetadataListener listener) {
        FileWatch w = new FileWatch(prefix, listener);
        // the first listing runs on the poller thread too, so that one thread delivers everything in order
        poller.execute(() -> {
            if (!w.closed) {
                watches.add(w);
                w.relist(false);
            }
        });
        return () -> {
            w.closed = true;
            watches.remove(w);
        };
    }

    /** Runs one poll of every watch now, on the poller thread, and waits for it (tests hold watches back with a long interval). */
    void pollNow() {
        try {
            poller.submit(this::poll).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("poll did not finish: " + e, e);
        }
    }

    private void poll() {
        for (FileWatch w : watches) {
            try {
                w.poll();
            } catch (RuntimeException e) {
                log.warn("metadata watch on {} failed ({}); listing the store again", root, e.toString());
                w.relist(true);
            }
        }
    }

    /**
     * One watch: a position in the change log and the version of every key it has delivered, so that a re-list
     * delivers only the difference and a change seen twice (the list and the log overlap) is delivered once.
     */
    private final class FileWatch {
        final String prefix;
        final MetadataListener listener;
        final Map<String, Long> delivered = new java.util.HashMap<>();
        volatile boolean closed;
        long segment;
        long offset;
        long revision;

        FileWatch(String prefix, MetadataListener listener) {
            this.prefix = prefix;
            this.listener = listener;
        }

        void relist(boolean again) {
            if (again) {
                listener.relisting();
            }
            List<Long> segments = changes.segments();
            if (segments.isEmpty()) {
                segment = legacyRevision() + 1;
                offset = 0;
                revision = segment - 1;
            } else {
                segment = segments.get(segments.size() - 1);
                List<ChangeLog.Change> all = changes.read(segment, 0).orElse(List.of());
                // start at the last logged change, not after it: its writer may not have written the key's file yet,
                // so the listing below may miss it; replayed changes the listing already shows are skipped
                ChangeLog.Change last = all.isEmpty() ? null : all.get(all.size() - 1);
                offset = last == null ? 0 : last.start();
                revision = last == null ? segment - 1 : last.revision() - 1;
            }
            Map<String, Versioned> now = list(prefix);
            for (String key : List.copyOf(delivered.keySet())) {
                if (!now.containsKey(key)) {
                    long was = delivered.remove(key);
                    listener.changed(WatchEvent.deleted(key, Math.max(was, revision)));
                }
            }
            now.forEach((key, v) -> {
                Long was = delivered.put(key, v.version());
                if (was == null) {
                    listener.changed(new WatchEvent(WatchEvent.Type.CREATED, v));
                } else if (was != v.version()) {
                    listener.changed(new WatchEvent(WatchEvent.Type.UPDATED, v));
                }
            });
            if (!again) {
                listener.synced();
            }
            poll();
        }

        void poll() {
            if (closed) {
                return;
            }
            Optional<List<ChangeLog.Change>> read = changes.read(segment, offset);
            if (read.isEmpty()) {
                List<Long> segments = changes.segments();
                if (!segments.isEmpty() && segments.get(segments.size() - 1) >= segment) {
                    relist(true); // the segment this watch was reading is gone: too far behind
                }
                return; // nothing logged yet
            }
            if (!deliver(read.get())) {
                return;
            }
            if (read.get().isEmpty() && Files.exists(changes.segmentFile(revision + 1))) {
                // a writer moved on to a new segment; this one is final now: finish it, then follow the new one
                if (deliver(changes.read(segment, offset).orElse(List.of())) && Files.exists(changes.segmentFile(revision + 1))) {
                    segment = revision + 1;
                    offset = 0;
                    poll();
                }
            }
        }

        /** Delivers changes in order; false (after re-listing) if the log skipped a revision. */
        private boolean deliver(List<ChangeLog.Change> changesRead) {
            for (ChangeLog.Change c : changesRead) {
                if (c.revision() > revision + 1) {
                    relist(true);
                    return false;
                }
                offset = c.end();
                if (c.revision() <= revision) {
                    continue;
                }
                revision = c.revision();
                if (!c.key().startsWith(prefix)) {
                    continue;
                }
                Long was = delivered.get(c.key());
                if (c.isDelete()) {
                    if (was != null && was < c.revision()) {
                        delivered.remove(c.key());
                        listener.changed(WatchEvent.deleted(c.key(), c.revision()));
                    }
                } else if (was == null || was < c.revision()) {
                    delivered.put(c.key(), c.revision());
                    listener.changed(new WatchEvent(was == null ? WatchEvent.Type.CREATED : WatchEvent.Type.UPDATED,
                            new Versioned(c.key(), c.revision(), c.value())));
                }
            }
            return true;
        }
    }

    // ------------------------------------------------------------------ files

    private interface LockedAction {
        long run(ChangeLog.Tail tail) throws IOException, ConflictException;
    }

    private long locked(LockedAction action) throws ConflictException {
        inProcess.lock();
        try (FileChannel lockFile = FileChannel.open(root.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lockFile.lock()) {
            ChangeLog.Tail tail = changes.tail(knownTail, legacyRevision());
            knownTail = tail;
            finish(tail.last());
            long revision = action.run(tail);
            wakeWatches();
            return revision;
        } catch (IOException e) {
            throw new UncheckedIOException("metadata write in " + root + " failed: " + e, e);
        } finally {
            inProcess.unlock();
        }
    }

    /**
     * This process's own writes reach its watches at once rather than at the next poll (a broker alone creates a topic
     * and waits for its own watch to show it); other processes' writes wait for the poll.
     */
    private void wakeWatches() {
        if (!watches.isEmpty() && wakeQueued.compareAndSet(false, true)) {
            try {
                poller.execute(() -> {
                    wakeQueued.set(false);
                    poll();
                });
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // the store is closing: nobody is left to tell
            }
        }
    }

    /** Re-applies the last logged change to its key's file, in case its writer died after logging it. Idempotent. */
    private void finish(ChangeLog.Change last) throws IOException {
        if (last == null) {
            return;
        }
        Optional<Versioned> current = get(last.key());
        long version = current.map(Versioned::version).orElse(-1L);
        if (last.isDelete()) {
            if (current.isPresent() && version < last.revision()) {
                applyDelete(last.key());
            }
        } else if (version < last.revision()) {
            writeFile(last.key(), last.revision(), last.value());
        }
    }

    private void writeFile(String key, long revision, byte[] value) throws IOException {
        Path target = file(key);
        Files.createDirectories(target.getParent());
        byte[] header = ("v" + revision + "\n").getBytes(StandardCharsets.US_ASCII);
        atomicWrite(target, ByteBuffer.allocate(header.length + value.length).put(header).put(value).array());
    }

    private void applyDelete(String key) throws IOException {
        Files.deleteIfExists(file(key));
        fsyncDirectory(file(key).getParent());
    }

    /** Stores written before the change log kept their revision here; the log continues from it. */
    private long legacyRevision() {
        try {
            return Long.parseLong(Files.readString(root.resolve(".revision")).trim());
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void atomicWrite(Path target, byte[] bytes) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.wrap(bytes));
            ch.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        fsyncDirectory(target.getParent());
    }

    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private Optional<Versioned> read(String key, Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            int nl = 0;
            while (bytes[nl] != '\n') {
                nl++;
            }
            long version = Long.parseLong(new String(bytes, 1, nl - 1, StandardCharsets.US_ASCII));
            byte[] value = java.util.Arrays.copyOfRange(bytes, nl + 1, bytes.length);
            return Optional.of(new Versioned(key, version, value));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read metadata key " + key + " from " + file, e);
        }
    }

    private Path file(String key) {
        if (key.isEmpty() || key.contains("..") || key.startsWith("/") || key.endsWith("/")) {
            throw new IllegalArgumentException("invalid metadata key '" + key + "'");
        }
        try {
            return root.resolve(key + SUFFIX);
        } catch (java.nio.file.InvalidPathException e) {
            throw new IllegalArgumentException("invalid metadata key '" + key + "': " + e.getReason(), e);
        }
    }

    private String keyOf(Path file) {
        String rel = root.relativize(file).toString().replace(java.io.File.separatorChar, '/');
        return rel.substring(0, rel.length() - SUFFIX.length());
    }

    @Override
    public void close() {
        poller.shutdownNow();
    }
}
