package io.capstan.broker.log;

import io.capstan.config.BrokerConfig;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;

/** A real log on RocksDB with one topic "t" of one shard, and blocking appends: the log tests' common ground. */
final class LogFixture {
    private LogFixture() {}

    static LogManager open(Path data, Uuid topicId) {
        Map<String, String> settings = Map.of("data.dir", data.toString(), "disk.min.free.bytes", "0");
        LogManager logs = new LogManager(BrokerConfig.from(settings), CommitListener.NONE, CommitStats.NONE, FatalErrorHandler.haltProcess());
        if (logs.catalog().topic("t") == null) {
            logs.createTopic("t", topicId, 1, Map.of());
        }
        return logs;
    }

    static Shard shardOf(LogManager logs) {
        return logs.catalog().shard(new TopicPartition("t", 0));
    }

    static AppendResult append(LogManager logs, Shard shard, byte[] batch) throws Exception {
        CompletableFuture<AppendResult> done = new CompletableFuture<>();
        logs.append(shard, batch, done::complete);
        return done.get(10, TimeUnit.SECONDS);
    }

    static AppendResult appendFromLeader(LogManager logs, Shard shard, byte[] batch) throws Exception {
        CompletableFuture<AppendResult> done = new CompletableFuture<>();
        logs.appendFromLeader(shard, batch, done::complete);
        return done.get(10, TimeUnit.SECONDS);
    }
}
