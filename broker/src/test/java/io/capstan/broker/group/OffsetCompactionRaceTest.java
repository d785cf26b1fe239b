package io.capstan.broker.group;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.broker.TestBroker;
import io.capstan.broker.log.AppendResult;
import io.capstan.broker.log.Shard;
import io.capstan.broker.log.TxnMarker;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Found in CI: a commit is applied to the store only once replicated, so a compaction could copy the value before it,
 * append that copy after it and truncate the log below the copy: the acknowledged commit was gone after a restart
 * (OffsetCompactionTest read the 999th of 1,000 commits). Each test here holds one write's replication open while a
 * compaction runs, then replays the log into a new store (what a restart or a new coordinator does) and checks that the
 * held write decides its key, and that the compaction still dropped the history below it.
 */
class OffsetCompactionRaceTest {
    private static final TopicPartition TP = new TopicPartition("t", 0);

    @TempDir
    Path dir;

    /** The replication of the next write waits for the test when a future is set here. */
    private final AtomicReference<CompletableFuture<Errors>> hold = new AtomicReference<>();

    private OffsetStore open(TestBroker broker, Shard shard) {
        return new OffsetStore(broker.broker().logs(), shard, shard.leaderEpoch(), Long.MAX_VALUE, (s, lastOffset) -> {
            CompletableFuture<Errors> held = hold.getAndSet(null);
            return held != null ? held : CompletableFuture.completedFuture(Errors.NONE);
        });
    }

    /** Once the held write is in the log and waits for its replication (its append callback asked for it). */
    private void awaitHeld() {
        await().atMost(java.time.Duration.ofSeconds(30)).until(() -> hold.get() == null);
    }

    private static Shard offsetsShard(TestBroker broker) {
        return broker.broker().logs().catalog().shard(new TopicPartition(OffsetStore.TOPIC, 0));
    }

    private static CommittedOffset offset(long offset) {
        return new CommittedOffset(offset, -1, "m" + offset, 0);
    }

    private static void history(OffsetStore store) throws Exception {
        for (int i = 0; i < 50; i++) {
            Map<TopicPartition, CommittedOffset> commit = new HashMap<>();
            for (int p = 1; p < 5; p++) {
                commit.put(new TopicPartition("t", p), offset(i));
            }
            assertThat(store.commit("g", commit).get(30, TimeUnit.SECONDS)).isEqualTo(Errors.NONE);
        }
    }

    @Test
    void aCommitReplicatedOnlyAfterTheCopyIsKeptAndWins() throws Exception {
        try (TestBroker broker = new TestBroker(dir)) {
            Shard shard = offsetsShard(broker);
            OffsetStore store = open(broker, shard);
            history(store);
            assertThat(store.commit("g", Map.of(TP, offset(1))).get(30, TimeUnit.SECONDS)).isEqualTo(Errors.NONE);
            CompletableFuture<Errors> replication = new CompletableFuture<>();
            hold.set(replication);
            long heldAt = shard.logEnd();
            CompletableFuture<Errors> held = store.commit("g", Map.of(TP, offset(2)));
            awaitHeld();

            assertThat(store.compact()).as("live offsets copied").isEqualTo(5);
            assertThat(held).as("still waiting for its replication").isNotDone();
            assertThat(shard.logStartOffset()).as("history below the waiting commit dropped, the commit kept").isEqualTo(heldAt);

            replication.complete(Errors.NONE);
            assertThat(held.get(30, TimeUnit.SECONDS)).isEqualTo(Errors.NONE);
            assertThat(store.get("g", TP)).isEqualTo(offset(2));
            store.close();
            OffsetStore replayed = open(broker, shard);
            assertThat(replayed.get("g", TP)).as("replay: the commit wins over the older copy appended after it").isEqualTo(offset(2));
            assertThat(replayed.all("g")).isEqualTo(store.all("g"));
            replayed.close();
        }
    }

    @Test
    void aDeletionReplicatedOnlyAfterTheCopyStaysDeleted() throws Exception {
        try (TestBroker broker = new TestBroker(dir)) {
            Shard shard = offsetsShard(broker);
            OffsetStore store = open(broker, shard);
            history(store);
            assertThat(store.commit("gone", Map.of(TP, offset(7))).get(30, TimeUnit.SECONDS)).isEqualTo(Errors.NONE);
            CompletableFuture<Errors> replication = new CompletableFuture<>();
            hold.set(replication);
            CompletableFuture<Errors> deleted = store.delete("gone");
            awaitHeld();

            store.compact();
            replication.complete(Errors.NONE);
            assertThat(deleted.get(30, TimeUnit.SECONDS)).isEqualTo(Errors.NONE);
            assertThat(store.get("gone", TP)).isNull();
            store.close();
            OffsetStore replayed = open(broker, shard);
            assertThat(replayed.get("gone", TP)).as("the copy, taken before the deletion, does not bring it back").isNull();
            assertThat(replayed.all("g")).hasSize(4);
            replayed.close();
        }
    }

    @Test
    void aMemberWriteReplicatedOnlyAfterTheCopyWins() throws Exception {
        try (TestBroker broker = new TestBroker(dir)) {
            Shard shard = offsetsShard(broker);
            OffsetStore store = open(broker, shard);
            history(store);
            assertThat(store.writeMembers("cg", Map.of("a", new byte[] {1}, "b", new byte[] {1})).get(30, TimeUnit.SECONDS))
                    .isEqualTo(Errors.NONE);
            CompletableFuture<Errors> replication = new CompletableFuture<>();
            hold.set(replication);
            Map<String, byte[]> change = new HashMap<>();
            change.put("a", new byte[] {2});
            change.put("b", null); // b leaves
            CompletableFuture<Errors> written = store.writeMembers("cg", change);
            awaitHeld();

            store.compact();
            replication.complete(Errors.NONE);
            assertThat(written.get(30, TimeUnit.SECONDS)).isEqualTo(Errors.NONE);
            store.close();
            OffsetStore replayed = open(broker, shard);
            assertThat(replayed.members().get("cg")).containsOnlyKeys("a");
            assertThat(replayed.members().get("cg").get("a")).containsExactly(2);
            replayed.close();
        }
    }

    @Test
    void aTransactionCommittedOnlyAfterTheCopyKeepsItsOffsets() throws Exception {
        try (TestBroker broker = new TestBroker(dir)) {
            Shard shard = offsetsShard(broker);
            OffsetStore store = open(broker, shard);
            history(store);
            long producerId = 42;
            long txnAt = shard.logEnd();
            assertThat(store.commitTransactional("g", producerId, (short) 0, Map.of(TP, offset(9))).get(30, TimeUnit.SECONDS))
                    .isEqualTo(Errors.NONE);
            assertThat(store.pendingFor("g", TP)).isTrue();
            CompletableFuture<AppendResult> appended = new CompletableFuture<>();
            broker.broker().logs().appendMarker(shard, producerId, (short) 0, new TxnMarker(true, 0), shard.leaderEpoch(),
                    appended::complete);
            AppendResult marker = appended.get(30, TimeUnit.SECONDS);
            assertThat(marker.error()).isEqualTo(Errors.NONE);
            CompletableFuture<Errors> replication = new CompletableFuture<>();
            CompletableFuture<Errors> ended = store.markerAppended(producerId, true, marker.baseOffset(), replication);

            store.compact();
            assertThat(shard.logStartOffset()).as("the transaction's offsets stay in the log").isLessThanOrEqualTo(txnAt);
            replication.complete(Errors.NONE);
            assertThat(ended.get(30, TimeUnit.SECONDS)).isEqualTo(Errors.NONE);
            assertThat(store.get("g", TP)).isEqualTo(offset(9));
            store.close();
            OffsetStore replayed = open(broker, shard);
            assertThat(replayed.get("g", TP)).isEqualTo(offset(9));
            assertThat(replayed.pendingFor("g", TP)).isFalse();
            replayed.close();
        }
    }
}
