package io.capstan.broker.kafka;

import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.FileStore;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeLogDirsRequestData;
import org.apache.kafka.common.message.DescribeLogDirsResponseData;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsPartition;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsResult;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsTopic;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeLogDirs ({@code kafka-log-dirs}, Cruise Control, admin UIs): this broker's one data directory, the bytes
 * of each shard it holds there (records as stored, before RocksDB's own compression) and the volume's total and usable
 * bytes. Needs DESCRIBE on the cluster, as in Kafka.
 */
public final class DescribeLogDirsHandler implements ApiHandler {
    private final LogManager logs;
    private final Path dataDir;

    public DescribeLogDirsHandler(LogManager logs, Path dataDir) {
        this.logs = logs;
        this.dataDir = dataDir;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        DescribeLogDirsRequestData request = (DescribeLogDirsRequestData) message;
        DescribeLogDirsResponseData response = new DescribeLogDirsResponseData();
        if (!context.allowedOnCluster(AclOperation.DESCRIBE)) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code()));
        }
        DescribeLogDirsResult dir = new DescribeLogDirsResult().setLogDir(dataDir.toAbsolutePath().toString());
        try {
            FileStore volume = Files.getFileStore(dataDir);
            dir.setTotalBytes(volume.getTotalSpace()).setUsableBytes(volume.getUsableSpace());
        } catch (IOException e) {
            dir.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code());
        }
        Map<String, DescribeLogDirsTopic> topics = new TreeMap<>();
        for (Shard shard : logs.catalog().shards()) {
            String topic = shard.topicPartition().topic();
            int partition = shard.topicPartition().partition();
            if (!wanted(request, topic, partition)) {
                continue;
            }
            topics.computeIfAbsent(topic, t -> new DescribeLogDirsTopic().setName(t)).partitions().add(new DescribeLogDirsPartition()
                    .setPartitionIndex(partition).setPartitionSize(shard.sizeBytes())
                    .setOffsetLag(Math.max(0, shard.highWatermark() - shard.logEnd())).setIsFutureKey(false));
        }
        dir.topics().addAll(topics.values());
        response.results().add(dir);
        return CompletableFuture.completedFuture(response);
    }

    /** Null topics: every shard (Kafka's "all"); otherwise only the partitions named. */
    private static boolean wanted(DescribeLogDirsRequestData request, String topic, int partition) {
        if (request.topics() == null) {
            return true;
        }
        DescribeLogDirsRequestData.DescribableLogDirTopic t = request.topics().find(topic);
        return t != null && t.partitions().contains(partition);
    }
}
