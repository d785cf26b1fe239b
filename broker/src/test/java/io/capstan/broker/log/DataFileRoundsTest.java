package io.capstan.broker.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The round frames of the data files (format 3, decision 0033) on real files: what a replay applies from a given
 * point, across file rolls, and where it must stop (a round cut short, a damaged write, a gap between two files, a
 * round that failed after reaching the file).
 */
class DataFileRoundsTest {
    @TempDir
    Path dir;

    private final Random random = new Random(31);

    /** Writes a round of {@code batches} batches of 1 KiB and the given index write; returns where it ends. */
    private long round(DataFiles files, int batches, byte[] write) {
        for (int i = 0; i < batches; i++) {
            byte[] batch = new byte[1024];
            random.nextBytes(batch);
            ByteBuffer.wrap(batch).putInt(8, batch.length - 12); // a batch's own length field
            files.append(batch);
        }
        long end = files.flushRound(write);
        files.roundDone();
        return end;
    }

    private static byte[] write(int n) {
        return ("index write " + n).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private List<String> replay(long from) throws Exception {
        List<String> applied = new ArrayList<>();
        try (DataFiles files = new DataFiles(dir, 8 << 10, 0, true)) {
            files.replayRounds(from, w -> applied.add(new String(w, java.nio.charset.StandardCharsets.UTF_8)));
        }
        return applied;
    }

    @Test
    void everyRoundAfterThePointIsAppliedInOrderAcrossRolledFiles() throws Exception {
        long start;
        long afterSecond;
        try (DataFiles files = new DataFiles(dir, 8 << 10, 0, true)) {
            start = files.nextRound();
            round(files, 3, write(1));
            afterSecond = round(files, 0, write(2)); // a round of inline batches only: its write alone
            for (int i = 3; i <= 12; i++) {
                round(files, 2, write(i));
            }
        }
        assertThat(dataFiles()).as("rolled at 8 KiB, between rounds").hasSizeGreaterThanOrEqualTo(3);
        List<String> all = new ArrayList<>();
        for (int i = 1; i <= 12; i++) {
            all.add("index write " + i);
        }
        assertThat(replay(start)).isEqualTo(all);
        assertThat(replay(afterSecond)).isEqualTo(all.subList(2, 12));
    }

    @Test
    void aDamagedWriteStopsTheReplayBeforeItsRound() throws Exception {
        long start;
        long third;
        try (DataFiles files = new DataFiles(dir, 1 << 20, 0, true)) {
            start = files.nextRound();
            round(files, 1, write(1));
            third = round(files, 1, write(2));
            round(files, 1, write(3));
            round(files, 1, write(4));
        }
        // one byte of round 3's index write flipped (it sits just before its 4-byte CRC, after its batch)
        long position = (third & ((1L << 40) - 1)) + RoundHeader.BYTES + 1024 + 2;
        flip(dataFiles().get(dataFiles().size() - 1), position);
        assertThat(replay(start)).containsExactly("index write 1", "index write 2");
    }

    @Test
    void aRoundThatDoesNotFollowTheLastOneAppliedIsNotApplied() throws Exception {
        long start;
        long firstEnd;
        try (DataFiles files = new DataFiles(dir, 4 << 10, 0, true)) {
            start = files.nextRound();
            firstEnd = round(files, 2, write(1));
            round(files, 2, write(2));
            round(files, 2, write(3)); // past 4 KiB: the next round starts a new file
            round(files, 1, write(4));
        }
        List<Path> files = dataFiles();
        assertThat(files).hasSize(2);
        // the first file lost its last round (a crash before its fsync), the second kept its first
        try (FileChannel channel = FileChannel.open(files.get(0), StandardOpenOption.WRITE)) {
            channel.truncate(firstEnd & ((1L << 40) - 1));
        }
        assertThat(replay(start)).as("round 3 follows round 2, which is gone").containsExactly("index write 1");
    }

    @Test
    void aRoundThatFailedAfterReachingTheFileIsSkippedAndTheNextOneFollowsIt() throws Exception {
        long start;
        try (DataFiles files = new DataFiles(dir, 1 << 20, 0, true)) {
            start = files.nextRound();
            round(files, 1, write(1));
            byte[] batch = new byte[1024];
            files.append(batch);
            files.flushRound(write(2));
            files.abandonRound(); // its RocksDB write failed: its producers were told so
            round(files, 1, write(3));
        }
        assertThat(replay(start)).containsExactly("index write 1", "index write 3");
    }

    @Test
    void aRoundCutShortByACrashIsTheEnd() throws Exception {
        long start;
        try (DataFiles files = new DataFiles(dir, 1 << 20, 0, true)) {
            start = files.nextRound();
            round(files, 1, write(1));
            round(files, 1, write(2));
        }
        Path file = dataFiles().get(0);
        long size = Files.size(file);
        for (long cut = size - 1; cut > size - 1060; cut -= 7) {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.truncate(cut);
            }
            assertThat(replay(start)).as("cut at %d", cut).containsExactly("index write 1");
            // each replay's start opened a new empty file: remove it so that the next one looks at the same files
            Files.delete(dataFiles().get(dataFiles().size() - 1));
        }
    }

    @Test
    void aPointAtTheEndOfADeletedFileGoesOnInTheNextOnlyIfItsFirstRoundFollowsThatEnd() throws Exception {
        long mid;
        long endOfFirst = 0;
        List<String> afterFirst = new ArrayList<>();
        try (DataFiles files = new DataFiles(dir, 4 << 10, 0, true)) {
            mid = round(files, 1, write(1));
            long end = mid;
            int first = (int) (end >>> 40);
            for (int i = 2; (int) (end >>> 40) == first; i++) {
                endOfFirst = end;
                end = round(files, 1, write(i));
                if ((int) (end >>> 40) != first) {
                    afterFirst.add("index write " + i);
                }
            }
            for (int i = 100; i < 102; i++) {
                round(files, 1, write(i));
                afterFirst.add("index write " + i);
            }
        }
        // nothing referred to the first file any more: deleted, while RocksDB's synced point was still its end
        Files.delete(dataFiles().get(0));
        assertThat(replay(endOfFirst)).as("the next file's rounds, the first of which follows the deleted file's end")
                .isEqualTo(afterFirst);
        assertThat(replay(mid)).as("a point inside the deleted file: the next file's first round does not follow it").isEmpty();
    }

    private void flip(Path file, long position) throws Exception {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            channel.read(b, position);
            channel.write(ByteBuffer.wrap(new byte[] {(byte) (b.get(0) ^ 0x40)}), position);
        }
    }

    private List<Path> dataFiles() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> Files.isRegularFile(p)).sorted().toList();
        }
    }
}
