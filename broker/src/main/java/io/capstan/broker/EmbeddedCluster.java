package io.capstan.broker;

import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import io.capstan.broker.log.TopicMeta;
import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.ShardStore;
import io.capstan.cluster.metadata.TopicRecord;
import io.capstan.cluster.metadata.Versioned;
import io.capstan.cluster.topics.ClusterTopics;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A broker without a shared metadata store is a cluster of one over a store in its data directory. Before it joins
 * that cluster: the store belongs to one node id (Kafka's meta.properties makes the same check), and topics that a
 * broker of an earlier version kept only in its log are registered once, led by this broker in the epoch their log
 * has reached. Once is enough and once is all: after that a local topic missing from the store is one being deleted.
 */
final class EmbeddedCluster {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedCluster.class);
    static final String OWNER_KEY = "embedded/owner";

    /** Whose store this is; written after the log's topics are registered. */
    record Owner(int nodeId) {}

    private EmbeddedCluster() {}

    static void prepare(MetadataStore store, int nodeId, java.nio.file.Path dataDir, LogManager logs) {
        Optional<Versioned> owner = store.get(OWNER_KEY);
        if (owner.isPresent()) {
            int was = MetadataCodec.decode(owner.get().value(), Owner.class).nodeId();
            if (was != nodeId) {
                throw new IllegalStateException("data.dir " + dataDir + " holds the data of node.id " + was + ", not " + nodeId
                        + ": start this broker with node.id=" + was + ", or give node " + nodeId + " an empty data.dir");
            }
            return;
        }
        int registered = 0;
        for (TopicMeta topic : logs.catalog().topics()) {
            if (store.get(TopicRecord.key(topic.name())).isPresent()) {
                continue; // registered by an earlier start that stopped before writing the owner
            }
            try {
                new ShardStore(store).delete(topic.name()); // shards an interrupted earlier registration left
                ClusterTopics.register(store, new TopicRecord(topic.name(), topic.id().toString(), topic.partitions(), 1,
                        topic.configs()), ledHere(topic, nodeId, logs));
                registered++;
            } catch (ConflictException e) {
                throw new IllegalStateException("another process is using the metadata store of data.dir " + dataDir
                        + " (" + e.getMessage() + "); stop it and start this broker again", e);
            }
        }
        try {
            store.create(OWNER_KEY, MetadataCodec.encode(new Owner(nodeId)));
        } catch (ConflictException raced) {
            throw new IllegalStateException("another process is using the metadata store of data.dir " + dataDir, raced);
        }
        if (registered > 0) {
            log.info("registered {} topic(s) of this broker's log in its embedded metadata store", registered);
        }
    }

    private static List<ShardState> ledHere(TopicMeta topic, int nodeId, LogManager logs) {
        List<ShardState> states = new ArrayList<>();
        for (int p = 0; p < topic.partitions(); p++) {
            Shard shard = logs.catalog().shard(new TopicPartition(topic.name(), p));
            int epoch = shard == null ? 0 : shard.leaderEpoch();
            states.add(new ShardState(topic.name(), p, List.of(nodeId), nodeId, epoch, List.of(nodeId)));
        }
        return states;
    }
}
