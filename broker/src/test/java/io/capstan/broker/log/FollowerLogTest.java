package io.capstan.broker.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The log operations replication needs, on real RocksDB: epochs stamped and remembered, follower copies, truncation. */
class FollowerLogTest {
    private static final Uuid TOPIC_ID = Uuid.randomUuid();
    private static final long PRODUCER = 42;

    @TempDir
    Path dir;

    @Test
    void followerCopiesTheLeadersBatchesAndTruncatesWhatAnOldLeaderNeverCommitted() throws Exception {
        try (LogManager leader = LogFixture.open(dir.resolve("leader"), TOPIC_ID)) {
            Shard l = LogFixture.shardOf(leader);
            l.leaderEpoch(3);
            LogFixture.append(leader, l, idempotent(0, 4));
            LogFixture.append(leader, l, idempotent(4, 4));
            l.leaderEpoch(5);
            LogFixture.append(leader, l, idempotent(8, 4));
            assertThat(l.epochs().asMap()).isEqualTo(Map.of(3, 0L, 5, 8L));
            assertThat(l.epochs().endOf(3, l.logEnd())).isEqualTo(new EpochHistory.EpochEnd(3, 8));
            assertThat(l.epochs().endOf(4, l.logEnd())).isEqualTo(new EpochHistory.EpochEnd(3, 8));
            assertThat(l.epochs().endOf(5, l.logEnd())).isEqualTo(new EpochHistory.EpochEnd(5, 12));
            assertThat(l.epochs().endOf(2, l.logEnd()).epoch()).isEqualTo(EpochHistory.UNDEFINED_EPOCH);

            List<byte[]> copied = new ArrayList<>();
            leader.reader().readCopies(l, 0, l.logEnd(), Integer.MAX_VALUE, true, copied);
            assertThat(copied).hasSize(3);

            try (LogManager follower = LogFixture.open(dir.resolve("follower"), TOPIC_ID)) {
                Shard f = LogFixture.shardOf(follower);
                f.replicate(0);
                for (byte[] batch : copied) {
                    assertThat(LogFixture.appendFromLeader(follower, f, batch.clone()).error()).isEqualTo(Errors.NONE);
                }
                assertThat(f.logEnd()).isEqualTo(12);
                assertThat(f.highWatermark()).as("a follower's HW comes from its leader, not its own log end").isZero();
                assertThat(f.epochs().asMap()).isEqualTo(l.epochs().asMap());
                AppendResult gap = LogFixture.appendFromLeader(follower, f, copied.get(1).clone());
                assertThat(gap.error()).isEqualTo(Errors.OFFSET_OUT_OF_RANGE);

                follower.truncateEnd(f, 8).get(10, TimeUnit.SECONDS);
                assertThat(f.logEnd()).isEqualTo(8);
                assertThat(f.epochs().asMap()).isEqualTo(Map.of(3, 0L));
                assertThat(f.sizeBytes()).isEqualTo(copied.get(0).length + copied.get(1).length);
                // the producer state forgot the truncated batch: its sequences may be written again
                f.leaderEpoch(6);
                AppendResult again = LogFixture.append(follower, f, idempotent(8, 4));
                assertThat(again.error()).isEqualTo(Errors.NONE);
                assertThat(again.baseOffset()).isEqualTo(8);
            }
            try (LogManager reopened = LogFixture.open(dir.resolve("follower"), TOPIC_ID)) {
                Shard f = LogFixture.shardOf(reopened);
                assertThat(f.logEnd()).isEqualTo(12);
                assertThat(f.epochs().asMap()).isEqualTo(Map.of(3, 0L, 6, 8L));
                AppendResult duplicate = LogFixture.append(reopened, f, idempotent(8, 4));
                assertThat(duplicate.baseOffset()).as("producer state survives the restart").isEqualTo(8);
            }
        }
    }

    @Test
    void historyAnswersLikeKafkasLeaderEpochCache() {
        EpochHistory h = new EpochHistory();
        assertThat(h.endOf(0, 10).epoch()).isEqualTo(EpochHistory.UNDEFINED_EPOCH);
        assertThat(h.begin(1, 0)).isTrue();
        assertThat(h.begin(1, 5)).as("an epoch begins once").isFalse();
        assertThat(h.begin(0, 7)).as("epochs only grow").isFalse();
        assertThat(h.begin(4, 10)).isTrue();
        assertThat(h.endOf(1, 20)).isEqualTo(new EpochHistory.EpochEnd(1, 10));
        assertThat(h.endOf(3, 20)).isEqualTo(new EpochHistory.EpochEnd(1, 10));
        assertThat(h.endOf(4, 20)).isEqualTo(new EpochHistory.EpochEnd(4, 20));
        assertThat(h.endOf(9, 20)).isEqualTo(new EpochHistory.EpochEnd(4, 20));
        h.truncateFromEnd(10);
        assertThat(h.asMap()).isEqualTo(Map.of(1, 0L));
        assertThat(EpochHistory.decode(h.encode()).asMap()).isEqualTo(h.asMap());
    }

    private static byte[] idempotent(int firstSeq, int count) {
        SimpleRecord[] records = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            records[i] = new SimpleRecord(1_000L + i, null, ("r" + (firstSeq + i)).getBytes(StandardCharsets.UTF_8));
        }
        ByteBuffer buf = MemoryRecords.withIdempotentRecords(Compression.NONE, PRODUCER, (short) 0, firstSeq, records).buffer();
        byte[] bytes = new byte[buf.remaining()];
        buf.get(bytes);
        return bytes;
    }

}
