package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.broker.log.CommitListener;
import io.capstan.broker.log.CommitStats;
import io.capstan.broker.log.FatalErrorHandler;
import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import io.capstan.config.BrokerConfig;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * Every replica of a shard, read from its broker's data directory after the brokers have stopped: the checker of
 * what the logs hold, not of what a consumer of the leader is shown. A follower copies its leader's batches byte for
 * byte, so replicas that ended in sync must hold the same batches at the same offsets, leader-epoch stamps included.
 */
final class ReplicaLogs {
    private ReplicaLogs() {}

    /** What a comparison covered: the batches compared. */
    record Comparison(long batches) {}

    /** A shard as one replica holds it: its log start and end, and each batch's base offset with its bytes. */
    record Copy(long logStart, long logEnd, Map<Long, byte[]> batches) {}

    /** Reads {@code topic}'s shards from a stopped broker's data directory. */
    static Map<Integer, Copy> read(Path dataDir, String topic, int partitions) {
        Map<Integer, Copy> copies = new LinkedHashMap<>();
        try (LogManager logs = new LogManager(BrokerConfig.from(Map.of("data.dir", dataDir.toString(), "disk.min.free.bytes", "0")),
                CommitListener.NONE, CommitStats.NONE, FatalErrorHandler.haltProcess())) {
            for (int p = 0; p < partitions; p++) {
                Shard shard = logs.catalog().shard(new TopicPartition(topic, p));
                if (shard == null) {
                    continue;
                }
                Map<Long, byte[]> batches = new LinkedHashMap<>();
                long offset = shard.logStartOffset();
                while (offset < shard.logEnd()) {
                    List<byte[]> out = new ArrayList<>();
                    logs.reader().readCopies(shard, offset, shard.logEnd(), 1 << 20, true, out);
                    assertThat(out).as("%s-%d at %d in %s: the log ends at %d", topic, p, offset, dataDir, shard.logEnd()).isNotEmpty();
                    for (byte[] batch : out) {
                        ByteBuffer b = ByteBuffer.wrap(batch);
                        long base = b.getLong(0);
                        batches.put(base, batch);
                        offset = base + b.getInt(io.capstan.broker.log.BatchHeader.LAST_OFFSET_DELTA) + 1;
                    }
                }
                copies.put(p, new Copy(shard.logStartOffset(), shard.logEnd(), batches));
            }
        }
        return copies;
    }

    /**
     * The end of a run: waits until every follower has caught up, stops every broker, then compares their logs from
     * disk ({@link #assertIdentical}).
     */
    static Comparison stopAndCompare(BrokerProcess[] brokers, String topic, int partitions) throws InterruptedException {
        awaitCaughtUp(brokers, topic, partitions, brokers.length);
        BrokerProcess.stopAll(brokers);
        return assertIdentical(java.util.Arrays.stream(brokers).map(BrokerProcess::dataDir).toList(), topic, partitions);
    }

    /**
     * Waits until every shard of {@code topic} has a leader whose /replicas shows its {@code replicas} - 1 followers at its
     * log end: only then can stopped replicas be expected to hold the same log.
     */
    static void awaitCaughtUp(BrokerProcess[] brokers, String topic, int partitions, int replicas) {
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(120)).pollInterval(java.time.Duration.ofMillis(200)).until(() -> {
            java.util.Set<Integer> caughtUp = new java.util.HashSet<>();
            for (BrokerProcess b : brokers) {
                for (io.capstan.cluster.metadata.ReplicaProgress p : io.capstan.cluster.metadata.MetadataCodec.decode(
                        b.admin("/replicas").getBytes(java.nio.charset.StandardCharsets.UTF_8), io.capstan.cluster.metadata.ReplicaProgress[].class)) {
                    if (p.topic().equals(topic) && p.replicaEnds().size() == replicas - 1 && p.maxLag() == 0) { // ends of the followers
                        caughtUp.add(p.partition());
                    }
                }
            }
            return caughtUp.size() == partitions;
        });
    }

    /**
     * Waits until, for every shard of {@code topic}, each of the {@code replicas} - 1 followers has copied everything its
     * leader held when this was called: under load, the proof that every follower is fetching again (a follower that
     * has caught up cannot be dropped from the in-sync set for replica.lag.time.max.ms after).
     */
    static void awaitFollowersPastNow(BrokerProcess[] brokers, String topic, int partitions, int replicas) {
        Map<Integer, Long> target = new java.util.HashMap<>();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(120)).pollInterval(java.time.Duration.ofMillis(100)).until(() -> {
            for (BrokerProcess b : brokers) {
                for (io.capstan.cluster.metadata.ReplicaProgress p : progress(b)) {
                    if (p.topic().equals(topic)) {
                        target.putIfAbsent(p.partition(), p.logEnd());
                    }
                }
            }
            return target.size() == partitions;
        });
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(120)).pollInterval(java.time.Duration.ofMillis(100)).until(() -> {
            java.util.Set<Integer> past = new java.util.HashSet<>();
            for (BrokerProcess b : brokers) {
                for (io.capstan.cluster.metadata.ReplicaProgress p : progress(b)) {
                    if (p.topic().equals(topic) && p.replicaEnds().size() == replicas - 1
                            && p.replicaEnds().values().stream().allMatch(end -> end >= target.get(p.partition()))) {
                        past.add(p.partition());
                    }
                }
            }
            return past.size() == partitions;
        });
    }

    private static io.capstan.cluster.metadata.ReplicaProgress[] progress(BrokerProcess b) throws java.io.IOException, InterruptedException {
        return io.capstan.cluster.metadata.MetadataCodec.decode(b.admin("/replicas").getBytes(java.nio.charset.StandardCharsets.UTF_8),
                io.capstan.cluster.metadata.ReplicaProgress[].class);
    }

    /**
     * Asserts that every broker holds every shard of {@code topic} identically: the same log end, and byte-identical
     * batches at the same offsets.
     */
    static Comparison assertIdentical(List<Path> dataDirs, String topic, int partitions) {
        List<Map<Integer, Copy>> replicas = dataDirs.stream().map(d -> read(d, topic, partitions)).toList();
        long compared = 0;
        for (int p = 0; p < partitions; p++) {
            Copy first = replicas.get(0).get(p);
            assertThat(first).as("%s-%d on %s", topic, p, dataDirs.get(0)).isNotNull();
            for (int r = 1; r < replicas.size(); r++) {
                Copy other = replicas.get(r).get(p);
                assertThat(other).as("%s-%d on %s", topic, p, dataDirs.get(r)).isNotNull();
                assertThat(other.logEnd()).as("log end of %s-%d on %s and %s", topic, p, dataDirs.get(0), dataDirs.get(r)).isEqualTo(first.logEnd());
                long from = Math.max(first.logStart(), other.logStart());
                for (Map.Entry<Long, byte[]> batch : first.batches().entrySet()) {
                    if (batch.getKey() < from) {
                        continue;
                    }
                    byte[] theirs = other.batches().get(batch.getKey());
                    assertThat(theirs).as("batch at offset %d of %s-%d on %s", batch.getKey(), topic, p, dataDirs.get(r)).isNotNull();
                    // byte-identical, the leader-epoch stamp (bytes 12-15) included: a follower that kept a deposed
                    // leader's batch where the new leader holds a retry of it would differ only there
                    assertThat(theirs).as("batch at offset %d of %s-%d on %s equals the one on %s",
                            batch.getKey(), topic, p, dataDirs.get(r), dataDirs.get(0)).isEqualTo(batch.getValue());
                    compared++;
                }
            }
        }
        return new Comparison(compared);
    }
}
