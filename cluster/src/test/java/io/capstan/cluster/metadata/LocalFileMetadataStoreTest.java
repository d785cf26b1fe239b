package io.capstan.cluster.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalFileMetadataStoreTest extends MetadataStoreContract {
    @TempDir
    Path dir;

    @Override
    protected MetadataStore newStore() {
        return new LocalFileMetadataStore(dir, 20);
    }

    /** Separate JVMs on one directory: the file lock, not a Java lock, keeps their read-modify-writes apart. */
    @Test
    void aKeyNoFileCanBeNamedAfterReadsAsAbsentAndCannotBeWritten() throws Exception {
        // a client's topic name reaches the store as part of a key; a NUL byte in it must not break the request
        try (MetadataStore store = newStore()) {
            assertThat(store.get("topics/bad\u0000name")).isEmpty();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.create("topics/bad\u0000name", new byte[] {1}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid metadata key");
        }
    }

    @Test
    void processesSharingTheDirectoryLoseNoUpdate() throws Exception {
        store.create("counter", b("0"));
        List<Process> processes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            processes.add(new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), CounterProcess.class.getName(), dir.toString(), "40")
                    .inheritIO().start());
        }
        for (Process p : processes) {
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
        }
        assertThat(new String(store.get("counter").orElseThrow().value(), StandardCharsets.UTF_8)).isEqualTo("120");
    }

    @Test
    void aWatchThatFellBehindTheKeptHistoryListsAgainAndEndsEqualToTheStore() throws Exception {
        try (LocalFileMetadataStore writer = new LocalFileMetadataStore(dir, 3_600_000, 512);
             LocalFileMetadataStore reader = new LocalFileMetadataStore(dir, 3_600_000, 512)) {
            long v = writer.create("shards/t/0", b("0"));
            writer.create("shards/t/1", b("doomed"));
            Recorder r = new Recorder();
            try (AutoCloseable w = reader.watch("shards/", r)) {
                reader.pollNow();
                assertThat(r.syncedAfter).isEqualTo(2);
                // far more than two 512-byte segments while the watch is not polling: its segment is deleted
                for (int i = 1; i <= 200; i++) {
                    v = writer.compareAndSet("shards/t/0", v, b(String.valueOf(i)));
                    writer.create("shards/x/" + i, b("new"));
                }
                writer.delete("shards/t/1", writer.get("shards/t/1").orElseThrow().version());
                assertThat(new ChangeLog(dir, 512).segments().get(0)).as("oldest kept segment").isGreaterThan(3L);
                reader.pollNow();
                assertThat(r.relistings.get()).isEqualTo(1);
                assertThat(r.replayed()).isEqualTo(asReplayed(writer.list("shards/")));
                // and it follows the log again afterwards, without listing
                writer.compareAndSet("shards/t/0", v, b("after"));
                reader.pollNow();
                assertThat(r.relistings.get()).isEqualTo(1);
                assertThat(r.replayed()).isEqualTo(asReplayed(writer.list("shards/")));
            }
        }
    }

    @Test
    void aWatchFollowsTheLogAcrossSegmentsWithoutListingAgain() throws Exception {
        try (LocalFileMetadataStore s = new LocalFileMetadataStore(dir, 3_600_000, 256)) {
            Recorder r = new Recorder();
            try (AutoCloseable w = s.watch("", r)) {
                s.pollNow();
                long v = s.create("k", b("0"));
                for (int i = 1; i <= 50; i++) {
                    v = s.compareAndSet("k", v, b(String.valueOf(i)));
                    if (i % 3 == 0) {
                        s.pollNow(); // never more than one segment behind
                    }
                }
                s.pollNow();
                assertThat(r.relistings.get()).isZero();
                assertThat(r.events).hasSize(51);
                assertThat(r.replayed()).isEqualTo(asReplayed(s.list("")));
            }
        }
    }

    @Test
    void aTornRecordLeftByADeadWriterIsCutOffAndNeverDelivered() throws Exception {
        long v = store.create("k", b("before"));
        ChangeLog log = new ChangeLog(dir, LocalFileMetadataStore.DEFAULT_SEGMENT_BYTES);
        java.nio.file.Path segment = log.segmentFile(log.segments().get(0));
        byte[] full = java.nio.file.Files.readAllBytes(segment);
        // half of a copy of the last record: what a writer killed mid-append leaves
        java.nio.file.Files.write(segment, java.util.Arrays.copyOfRange(full, 0, full.length / 2), java.nio.file.StandardOpenOption.APPEND);
        Recorder r = new Recorder();
        try (AutoCloseable w = store.watch("", r)) {
            // the watch's first listing runs on its poller: a write before it would be listed, not seen as a change
            await().atMost(Duration.ofSeconds(10)).until(() -> r.events.size() == 1);
            long v2 = store.compareAndSet("k", v, b("after"));
            assertThat(v2).isEqualTo(v + 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> r.events.size() == 2);
            assertThat(r.replayed()).containsExactly(java.util.Map.entry("k", v2 + ":after"));
            List<ChangeLog.Change> logged = log.read(log.segments().get(0), 0).orElseThrow();
            assertThat(logged).extracting(ChangeLog.Change::revision).containsExactly(v, v2);
            assertThat(java.nio.file.Files.size(segment)).as("nothing left of the torn record").isEqualTo(logged.get(1).end());
        }
    }

    @Test
    void aChangeLoggedByAWriterThatDiedBeforeWritingTheKeyIsFinishedByTheNextWriter() throws Exception {
        long v = store.create("k", b("old"));
        ChangeLog log = new ChangeLog(dir, LocalFileMetadataStore.DEFAULT_SEGMENT_BYTES);
        // logged (committed) but the key's file never written: the writer died in between
        log.append(log.tail(null, 0), "k", b("new"));
        assertThat(s(store.get("k").orElseThrow())).isEqualTo("old");
        Recorder r = new Recorder();
        try (AutoCloseable w = store.watch("", r)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> r.replayed().equals(java.util.Map.of("k", (v + 1) + ":new")));
            // the next writer, of any key, finishes it: the old version no longer wins a compare-and-set
            store.create("other", b("x"));
            assertThat(store.get("k").orElseThrow().version()).isEqualTo(v + 1);
            assertThat(s(store.get("k").orElseThrow())).isEqualTo("new");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.compareAndSet("k", v, b("stale")))
                    .isInstanceOf(ConflictException.class);
        }
    }

    @Test
    void aStoreWrittenBeforeTheChangeLogKeepsItsKeysAndContinuesItsRevisions() throws Exception {
        java.nio.file.Files.writeString(dir.resolve(".revision"), "41");
        java.nio.file.Files.createDirectories(dir.resolve("brokers"));
        java.nio.file.Files.writeString(dir.resolve("brokers/1.meta"), "v41\nold");
        assertThat(s(store.get("brokers/1").orElseThrow())).isEqualTo("old");
        Recorder r = new Recorder();
        try (AutoCloseable w = store.watch("", r)) {
            long v = store.compareAndSet("brokers/1", 41, b("new"));
            assertThat(v).isEqualTo(42);
            await().atMost(Duration.ofSeconds(10)).until(() -> r.replayed().equals(java.util.Map.of("brokers/1", "42:new")));
        }
    }

    /**
     * A process stopped (SIGSTOP) while it watches must not hold up anyone else: watches read the log without the
     * lock. Stopped many times at random moments of its 1 ms polling, writers here must keep going every time.
     */
    @Test
    void aStoppedWatcherProcessNeverHoldsUpWriters() throws Exception {
        store.create("counter", b("0"));
        Process watcher = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), WatcherProcess.class.getName(), dir.toString())
                .redirectErrorStream(true).start();
        try {
            java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(watcher.getInputStream(), StandardCharsets.UTF_8));
            assertThat(out.readLine()).isEqualTo("synced");
            for (int round = 0; round < 30; round++) {
                signal("STOP", watcher.pid());
                java.util.concurrent.CompletableFuture<Void> writes = java.util.concurrent.CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < 3; i++) {
                        try {
                            CasRetry.update(store, "counter", old -> b(String.valueOf(Long.parseLong(new String(old, StandardCharsets.UTF_8)) + 1)));
                        } catch (ConflictException e) {
                            throw new IllegalStateException(e);
                        }
                    }
                });
                try {
                    writes.get(20, TimeUnit.SECONDS);
                } finally {
                    signal("CONT", watcher.pid());
                }
            }
            assertThat(s(store.get("counter").orElseThrow())).isEqualTo("90");
        } finally {
            watcher.destroyForcibly();
        }
    }

    private static void signal(String name, long pid) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + name, String.valueOf(pid)).start().waitFor()).isZero();
    }

    /** Watches the store with a 1 ms poll until killed; says "synced" once its first listing is in. */
    public static final class WatcherProcess {
        public static void main(String[] args) throws Exception {
            LocalFileMetadataStore s = new LocalFileMetadataStore(Path.of(args[0]), 1);
            java.util.concurrent.CountDownLatch synced = new java.util.concurrent.CountDownLatch(1);
            s.watch("", new MetadataListener() {
                @Override
                public void changed(WatchEvent event) {
                    // following the log is the point
                }

                @Override
                public void synced() {
                    synced.countDown();
                }
            });
            synced.await();
            System.out.println("synced");
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE); // until the test kills it
        }
    }

    /** Increments the shared counter N times from its own process. */
    public static final class CounterProcess {
        public static void main(String[] args) throws Exception {
            try (LocalFileMetadataStore s = new LocalFileMetadataStore(Path.of(args[0]), 1000)) {
                for (int i = 0; i < Integer.parseInt(args[1]); i++) {
                    CasRetry.update(s, "counter", old -> String.valueOf(Long.parseLong(new String(old, StandardCharsets.UTF_8)) + 1)
                            .getBytes(StandardCharsets.UTF_8));
                }
            }
        }
    }
}
