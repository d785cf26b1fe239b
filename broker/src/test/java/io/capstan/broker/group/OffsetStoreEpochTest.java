package io.capstan.broker.group;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.broker.TestBroker;
import io.capstan.broker.log.Shard;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Found by the soak: an offset commit the coordinator had accepted as leader was still on its way into the log when a
 * controlled shutdown handed the offsets shard to another broker; it landed in this broker's log (now a follower's)
 * stamped with the new epoch, beside a different batch the new leader wrote at the same offset, and the follower's
 * fetches failed from then on. A commit now names the epoch its coordinator leads in, and the log refuses it once the
 * shard has moved on (the client is told NOT_COORDINATOR and commits again with the new coordinator).
 */
class OffsetStoreEpochTest {
    @TempDir
    Path dir;

    @Test
    void aCommitFromAnEpochTheShardLeftIsRefusedAndNotWritten() throws Exception {
        try (TestBroker broker = new TestBroker(dir)) {
            Shard shard = broker.broker().logs().catalog().shard(new TopicPartition(OffsetStore.TOPIC, 0));
            int epoch = shard.leaderEpoch();
            OffsetStore store = new OffsetStore(broker.broker().logs(), shard, epoch, Long.MAX_VALUE,
                    (s, lastOffset) -> CompletableFuture.completedFuture(Errors.NONE));
            try {
                TopicPartition tp = new TopicPartition("t", 0);
                assertThat(store.commit("g", Map.of(tp, new CommittedOffset(5, -1, "", 0))).get(30, TimeUnit.SECONDS)).isEqualTo(Errors.NONE);
                long end = shard.logEnd();
                shard.leaderEpoch(epoch + 1); // the shard moved to another leader's epoch
                assertThat(store.commit("g", Map.of(tp, new CommittedOffset(6, -1, "", 0))).get(30, TimeUnit.SECONDS))
                        .as("a commit in the epoch the shard left").isEqualTo(Errors.NOT_COORDINATOR);
                assertThat(shard.logEnd()).as("the refused commit wrote nothing").isEqualTo(end);
            } finally {
                shard.leaderEpoch(epoch);
                store.close();
            }
        }
    }
}
