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
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A {@link MetadataStore} in a directory that several processes on one machine share (the local cluster of
 * {@code capstan cluster up}, and tests). Every change holds an exclusive lock on {@code .lock}, bumps the
 * store-wide revision (so versions are never reused, even for a deleted and re-created key), writes a temporary file,
 * fsyncs it and renames it over the key's file atomically. Readers never lock: a rename is all or nothing.
 * Watches poll the revision file and diff the directory when it moves.
 */
@SuppressWarnings("unchecked")
public final class LocalFileMetadataStore implements MetadataStore {
    private static final String SUFFIX = ".meta";

    private final Path root;
    /**
     * File locks belong to the whole JVM, so two stores on one directory in one process (brokers of an in-process
     * test cluster) must also exclude each other here: one lock per directory, shared by every instance.
     */
    private static final java.util.concurrent.ConcurrentMap<Path, ReentrantLock> IN_PROCESS = new java.util.concurrent.ConcurrentHashMap<>();
    private final ReentrantLock inProcess;
    private final List<Watcher> watchers = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService poller;
    private final Object pollLock = new Object();
    private Map<String, Versioned> lastSeen;
    private long lastRevision = -1;

    private record Watcher(String prefix, Consumer<WatchEvent> listener) {}

    public LocalFileMetadataStore(Path root, long pollIntervalMs) {
        this.root = root;
        this.inProcess = IN_PROCESS.computeIfAbsent(root.toAbsolutePath().normalize(), p -> new ReentrantLock());
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
        return read(key, file(key));
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
        return locked(() -> {
            if (get(key).isPresent()) {
                throw new ConflictException(key + " already exists");
            }
            return write(key, value);
        });
    }

    @Override
    public long compareAndSet(String key, long expectedVersion, byte[] value) throws ConflictException {
        return locked(() -> {
            long current = get(key).map(Versioned::version).orElse(-1L);
            if (current != expectedVersion) {
                throw new ConflictException(key + " is at version " + current + ", not " + expectedVersion);
            }
            return write(key, value);
        });
    }

    @Override
    public void delete(String key, long expectedVersion) throws ConflictException {
        locked(() -> {
            long current = get(key).map(Versioned::version).orElse(-1L);
            if (current != expectedVersion) {
                throw new ConflictException(key + " is at version " + current + ", not " + expectedVersion);
            }
            long revision = nextRevision();
            Files.delete(file(key));
            fsyncDirectory(file(key).getParent());
            return revision;
        });
    }

    @Override
    public AutoCloseable watch(String prefix, Consumer<WatchEvent> listener) {
        synchronized (pollLock) {
            if (lastSeen == null) {
                try {
                    Map<String, Versioned>[] seen = new Map[1];
                    lastRevision = locked(() -> {
                        seen[0] = list("");
                        return revision();
                    });
                    lastSeen = seen[0];
                } catch (ConflictException impossible) {
                    throw new IllegalStateException(impossible);
                }
            }
        }
        Watcher w = new Watcher(prefix, listener);
        watchers.add(w);
        return () -> watchers.remove(w);
    }

    private void poll() {
        if (watchers.isEmpty()) {
            return;
        }
        synchronized (pollLock) {
            if (revision() == lastRevision) {
                return;
            }
            // read the state under the write lock: a writer bumps the revision before its file change is visible
            Map<String, Versioned> now;
            long revision;
            try {
                Map<String, Versioned>[] seen = new Map[1];
                revision = locked(() -> {
                    seen[0] = list("");
                    return revision();
                });
                now = seen[0];
            } catch (ConflictException impossible) {
                throw new IllegalStateException(impossible);
            }
            Map<String, Versioned> before = lastSeen;
            lastSeen = now;
            lastRevision = revision;
            now.forEach((k, v) -> {
                Versioned old = before.get(k);
                if (old == null) {
                    emit(new WatchEvent(WatchEvent.Type.CREATED, v));
                } else if (old.version() != v.version()) {
                    emit(new WatchEvent(WatchEvent.Type.UPDATED, v));
                }
            });
            before.forEach((k, v) -> {
                if (!now.containsKey(k)) {
                    emit(new WatchEvent(WatchEvent.Type.DELETED, v));
                }
            });
        }
    }

    private void emit(WatchEvent e) {
        for (Watcher w : watchers) {
            if (e.value().key().startsWith(w.prefix())) {
                w.listener().accept(e);
            }
        }
    }

    // ------------------------------------------------------------------ files

    private interface LockedAction {
        long run() throws IOException, ConflictException;
    }

    private long locked(LockedAction action) throws ConflictException {
        inProcess.lock();
        try (FileChannel lockFile = FileChannel.open(root.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lockFile.lock()) {
            return action.run();
        } catch (IOException e) {
            throw new UncheckedIOException("metadata write in " + root + " failed: " + e.getMessage(), e);
        } finally {
            inProcess.unlock();
        }
    }

    private long write(String key, byte[] value) throws IOException {
        long revision = nextRevision();
        Path target = file(key);
        Files.createDirectories(target.getParent());
        byte[] header = ("v" + revision + "\n").getBytes(StandardCharsets.US_ASCII);
        atomicWrite(target, ByteBuffer.allocate(header.length + value.length).put(header).put(value).array());
        return revision;
    }

    private long revision() {
        try {
            return Long.parseLong(Files.readString(root.resolve(".revision")).trim());
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Under the lock: the store-wide revision, incremented and made durable before it is used. */
    private long nextRevision() throws IOException {
        long next = revision() + 1;
        atomicWrite(root.resolve(".revision"), String.valueOf(next).getBytes(StandardCharsets.US_ASCII));
        return next;
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

    private static void fsyncDirectory(Path dir) throws IOException {
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
        return root.resolve(key + SUFFIX);
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
