package io.capstan.cluster.version;

import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.TopicRecord;
import io.capstan.cluster.metadata.Versioned;
import java.util.Optional;

/**
 * The cluster's finalized version (decision 0028): the newest on-disk format and inter-broker behaviour every broker
 * may use, a Kafka feature named {@value #FEATURE} (as {@code metadata.version} is Kafka's). It is raised only when
 * every registered broker supports the new level and never lowered, so that until it is raised an upgrade can still be
 * rolled back: no broker writes what the previous version cannot read. Stored under {@value #KEY}; a store without it
 * belongs to a cluster from before versions, which is at {@link #FIRST}.
 */
public record ClusterVersion(int level) {
    public static final String KEY = "cluster/version";
    public static final String FEATURE = "capstan.version";
    /** The level of a cluster from before versions: batches in RocksDB only. */
    public static final int FIRST = 1;
    /** Brokers may write data files (log.data.files, on-disk format 2). */
    public static final int DATA_FILES = 2;
    /** Each group-commit round is framed in the data files with its index write (on-disk format 3, decision 0033). */
    public static final int DATA_FILE_ROUNDS = 3;
    /** The newest level this build supports. */
    public static final int LATEST = DATA_FILE_ROUNDS;

    public ClusterVersion {
        if (level < FIRST) {
            throw new IllegalArgumentException("cluster version " + level + " is below the first, " + FIRST);
        }
    }

    public boolean allowsDataFiles() {
        return level >= DATA_FILES;
    }

    public boolean allowsDataFileRounds() {
        return level >= DATA_FILE_ROUNDS;
    }

    /** The finalized version, {@link #FIRST} when the store has none. */
    public static ClusterVersion read(MetadataStore store) {
        return of(store.get(KEY));
    }

    public static ClusterVersion of(Optional<Versioned> stored) {
        return stored.map(v -> MetadataCodec.decode(v.value(), ClusterVersion.class)).orElse(new ClusterVersion(FIRST));
    }

    /**
     * The version a starting broker finds. A new cluster (no broker has ever registered, no topic exists, and this
     * broker's own log is new) starts at {@link #LATEST}, written here; any other cluster without a version was made by
     * a build from before versions and stays at {@link #FIRST} until every broker supports more and it is raised.
     */
    public static ClusterVersion atStart(MetadataStore store, boolean newLog) {
        Optional<Versioned> stored = store.get(KEY);
        if (stored.isPresent()) {
            return of(stored);
        }
        boolean newCluster = newLog && store.list("brokers/").isEmpty() && store.list(TopicRecord.key("")).isEmpty();
        if (!newCluster) {
            return new ClusterVersion(FIRST);
        }
        try {
            store.create(KEY, MetadataCodec.encode(new ClusterVersion(LATEST)));
            return new ClusterVersion(LATEST);
        } catch (ConflictException anotherBrokerWroteItFirst) {
            return read(store);
        }
    }

    /** The newest level a registered broker supports; a broker from before versions announces none and supports the first. */
    public static int supportedBy(BrokerRegistration broker) {
        return Math.max(FIRST, broker.maxClusterVersion());
    }
}
