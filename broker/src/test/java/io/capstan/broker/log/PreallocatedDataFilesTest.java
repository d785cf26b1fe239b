package io.capstan.broker.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data files begun on spares (decision 0034), on real files: spares written with zeros ahead of need (log.preallocate)
 * and deleted files kept as spares (recycled); when a spare is made and taken, that a replay stops at the zeros or the
 * old rounds after the last round as it stops at a file's end, that a clean close cuts them, and that a broker that
 * cannot make a spare goes on with files that grow.
 */
class PreallocatedDataFilesTest {
    private static final int ROLL = 16 << 10;

    @TempDir
    Path dir;

    private final Random random = new Random(34);
    private int written;

    /**
     * A round of two 1 KiB batches and its index write ("index write 0000N"); returns where it ends. Every round has the
     * same length, so that a recycled file's old rounds start exactly where new ones end: only the chain stops a replay.
     */
    private long round(DataFiles files) {
        for (int i = 0; i < 2; i++) {
            byte[] batch = new byte[1024];
            random.nextBytes(batch);
            ByteBuffer.wrap(batch).putInt(8, batch.length - 12);
            files.append(batch);
        }
        long end = files.flushRound(name(++written).getBytes(StandardCharsets.UTF_8));
        files.roundDone();
        return end;
    }

    private static String name(int round) {
        return String.format("index write %05d", round);
    }

    private static long position(long mark) {
        return mark & ((1L << 40) - 1);
    }

    private static int file(long mark) {
        return (int) (mark >>> 40);
    }

    private List<String> replay(Path in, long from) throws Exception {
        List<String> applied = new ArrayList<>();
        try (DataFiles files = new DataFiles(in, ROLL, 0, true, true)) {
            files.replayRounds(from, w -> applied.add(new String(w, StandardCharsets.UTF_8)));
        }
        return applied;
    }

    private List<String> writtenSoFar() {
        List<String> all = new ArrayList<>();
        for (int i = 1; i <= written; i++) {
            all.add(name(i));
        }
        return all;
    }

    private Path spare() {
        return dir.resolve(SpareDataFile.NAME);
    }

    /** Writes rounds until the active file is past half full, then waits for the spare made from there. */
    private long fillPastHalfAndAwaitSpare(DataFiles files) {
        long end = files.nextRound();
        int begun = file(end);
        while (file(end) == begun && position(end) < ROLL / 2 + 4096) {
            end = round(files);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(spare()) && Files.size(spare()) == ROLL);
        return end;
    }

    @Test
    void theNextFileIsBegunOnASpareMadeOnceTheActiveOneIsHalfFull() throws Exception {
        long start;
        try (DataFiles files = new DataFiles(dir, ROLL, 0, true, true)) {
            start = files.nextRound();
            assertThat(Files.exists(spare())).as("no spare before the first file is half full").isFalse();
            long end = fillPastHalfAndAwaitSpare(files);
            int first = file(end);
            while (file(end) == first) {
                end = round(files);
            }
            Path second = dataFiles().get(dataFiles().size() - 1);
            assertThat(Files.exists(spare())).as("the spare was taken").isFalse();
            assertThat(Files.size(second)).as("the new file is the spare: its full size from its first round")
                    .isEqualTo(ROLL);
            assertThat(Files.readAllBytes(second)).as("zeros after its first round")
                    .endsWith(new byte[ROLL - (int) position(end)]);
            end = fillPastHalfAndAwaitSpare(files);
            while (file(end) == file(files.nextRound()) && position(end) < ROLL) {
                end = round(files);
            }
        }
        // each replay's start begins a file of its own, on the spare if one is ready: the same rounds either way
        assertThat(replay(dir, start)).as("every round, across files that began as spares").isEqualTo(writtenSoFar());
    }

    @Test
    void aCrashLeavesZerosAfterTheLastRoundWhereTheReplayStops() throws Exception {
        Path crashed = Files.createDirectories(dir.resolveSibling(dir.getFileName() + "-crashed"));
        long start;
        try (DataFiles files = new DataFiles(dir, ROLL, 0, true, true)) {
            start = files.nextRound();
            long end = fillPastHalfAndAwaitSpare(files);
            int first = file(end);
            while (file(end) == first) {
                end = round(files);
            }
            round(files);
            // the files as a crash leaves them (everything here reached the page cache; PowerLossTest takes unsynced writes away)
            for (Path p : dataFiles()) {
                Files.copy(p, crashed.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
            Path active = crashed.resolve(dataFiles().get(dataFiles().size() - 1).getFileName());
            assertThat(Files.size(active)).as("the crashed file still holds its zeros").isEqualTo(ROLL);
        }
        assertThat(replay(crashed, start)).as("every round, the replay stopped at the zeros").isEqualTo(writtenSoFar());
        // and appending goes on after that start: its rounds follow the replayed ones
        long next;
        try (DataFiles files = new DataFiles(crashed, ROLL, 0, true, true)) {
            files.replayRounds(start, w -> { });
            next = files.nextRound();
            round(files);
            round(files);
        }
        List<String> after = new ArrayList<>();
        try (DataFiles files = new DataFiles(crashed, ROLL, 0, true, true)) {
            files.replayRounds(next, w -> after.add(new String(w, StandardCharsets.UTF_8)));
        }
        assertThat(after).containsExactly(name(written - 1), name(written));
    }

    @Test
    void aCleanCloseCutsTheZerosAfterTheLastRound() throws Exception {
        long end;
        try (DataFiles files = new DataFiles(dir, ROLL, 0, true, true)) {
            end = fillPastHalfAndAwaitSpare(files);
            int first = file(end);
            while (file(end) == first) {
                end = round(files);
            }
            end = round(files);
        }
        Path last = dataFiles().get(dataFiles().size() - 1);
        assertThat(Files.size(last)).as("cut where its last round ends").isEqualTo(position(end));
    }

    @Test
    void aSpareLeftHalfMadeOrOfAnotherSizeIsDeletedAtStart() throws Exception {
        Files.write(dir.resolve(SpareDataFile.NAME + ".making"), new byte[100]);
        Files.write(spare(), new byte[ROLL / 2]);
        try (DataFiles files = new DataFiles(dir, ROLL, 0, true, true)) {
            assertThat(Files.exists(dir.resolve(SpareDataFile.NAME + ".making"))).isFalse();
            assertThat(Files.exists(spare())).as("made for another file size").isFalse();
            round(files);
        }
        Files.write(spare(), new byte[ROLL]);
        try (DataFiles files = new DataFiles(dir, ROLL, 0, true, true)) {
            assertThat(Files.exists(spare())).as("a whole spare is taken by the first file of the run").isFalse();
            round(files);
        }
    }

    @Test
    void withoutASpareFilesGrowAsTheyAreAppendedTo() throws Exception {
        // a directory where the spare is made: it cannot be created, deleted nor written
        Path blocked = Files.createDirectories(dir.resolve(SpareDataFile.NAME + ".making"));
        Files.write(blocked.resolve("in the way"), new byte[1]);
        long start;
        try (DataFiles files = new DataFiles(dir, ROLL, 0, true, true)) {
            start = files.nextRound();
            long end = start;
            for (int i = 0; i < 40 && file(end) < file(start) + 2; i++) {
                end = round(files);
            }
            assertThat(file(end)).as("rolled twice").isEqualTo(file(start) + 2);
            assertThat(Files.exists(spare())).isFalse();
            assertThat(Files.size(dataFiles().get(dataFiles().size() - 1))).as("the newest file grew with its rounds")
                    .isEqualTo(position(end));
        }
        assertThat(replay(dir, start)).isEqualTo(writtenSoFar());
    }

    @Test
    void aDeletedFullFileIsKeptAsTheSpareTheNextFileBeginsOn() throws Exception {
        Path crashed = Files.createDirectories(dir.resolveSibling(dir.getFileName() + "-recycled"));
        long from;
        int replayedFrom;
        try (DataFiles files = new DataFiles(dir, ROLL, 0, true, false)) {
            long end = files.nextRound();
            int first = file(end);
            while (file(end) == first) {
                end = round(files);
            }
            from = end; // the first round of the second file: a replay from here must not need the first file
            replayedFrom = written;
            assertThat(Files.exists(spare())).as("no zeros are written without log.preallocate").isFalse();
            long firstFileBytes = Files.size(dataFiles().get(0));
            assertThat(firstFileBytes).as("full").isGreaterThanOrEqualTo(ROLL);
            files.deleteUnreferenced(List.of(first));
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(spare()));
            assertThat(dataFiles()).as("the first file was renamed, not deleted").hasSize(1);
            assertThat(Files.size(spare())).as("cut to a spare's size").isEqualTo(ROLL);
            byte[] old = Files.readAllBytes(spare());
            int second = file(end);
            while (file(end) == second) {
                end = round(files);
            }
            Path third = dataFiles().get(dataFiles().size() - 1);
            assertThat(Files.exists(spare())).as("taken").isFalse();
            assertThat(Files.size(third)).as("begun on the recycled file").isEqualTo(ROLL);
            byte[] now = Files.readAllBytes(third);
            assertThat(java.util.Arrays.copyOfRange(now, (int) position(end), ROLL))
                    .as("the old file's rounds after the new one's first").isEqualTo(java.util.Arrays.copyOfRange(old, (int) position(end), ROLL));
            round(files);
            for (Path p : dataFiles()) {
                Files.copy(p, crashed.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        assertThat(replay(crashed, from)).as("the rounds since, and none of the old ones after them")
                .isEqualTo(writtenSoFar().subList(replayedFrom, written));
        assertThat(replay(dir, from)).as("after a clean close").isEqualTo(writtenSoFar().subList(replayedFrom, written));
    }

    @Test
    void aDeletedFileShorterThanASpareIsDeleted() throws Exception {
        try (DataFiles files = new DataFiles(dir, ROLL, 0, true, false)) {
            round(files);
        }
        Path short_ = dataFiles().get(0);
        assertThat(Files.size(short_)).isLessThan(ROLL);
        try (DataFiles files = new DataFiles(dir, ROLL, 0, true, false)) {
            files.deleteUnreferenced(List.of(file(files.nextRound()) - 1));
            await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(short_));
            assertThat(Files.exists(spare())).isFalse();
        }
    }

    private List<Path> dataFiles() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".batches")).sorted().toList();
        }
    }
}
