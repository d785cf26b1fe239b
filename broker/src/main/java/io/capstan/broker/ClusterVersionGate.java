package io.capstan.broker;

import io.capstan.broker.log.FatalErrorHandler;
import io.capstan.broker.log.LogStore;
import io.capstan.cluster.metadata.MetadataCache;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.version.ClusterVersion;
import io.capstan.config.BrokerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the cluster version (decision 0028) lets this broker do. At start it decides whether the log may write data
 * files: only once the version allows them, so that until it is finalized an upgraded broker leaves nothing the
 * previous build cannot read and an upgrade can still be rolled back. A finalize takes effect on data files at each
 * broker's next start. While running it follows the version for clients (ApiVersions) and stops the broker if the
 * cluster is ever finalized past what this build supports, rather than run a protocol it does not speak.
 */
final class ClusterVersionGate implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterVersionGate.class);

    private final ClusterVersion atStart;
    private volatile int level;
    private AutoCloseable watch = () -> { };

    private ClusterVersionGate(ClusterVersion atStart) {
        this.atStart = atStart;
        this.level = atStart.level();
    }

    static ClusterVersionGate atStart(MetadataStore store, BrokerConfig config) {
        ClusterVersion version = ClusterVersion.atStart(store, LogStore.isNew(config.dataDir()));
        if (version.level() > ClusterVersion.LATEST) {
            throw new IllegalStateException("this cluster is finalized at " + ClusterVersion.FEATURE + " " + version.level()
                    + " and this build supports up to " + ClusterVersion.LATEST + ": run a Capstan version that supports it (a cluster"
                    + " version is never lowered; docs/operations.md, \"Upgrades and the cluster version\")");
        }
        if (config.logDataFiles() && !version.allowsDataFiles()) {
            log.warn("log.data.files is on but the cluster is at {} {}: new batches stay in RocksDB, so that the previous version can"
                    + " still read this log. Once every broker runs this version, finalize it (kafka-features.sh --bootstrap-server"
                    + " <broker> upgrade --feature {}={}) and restart the brokers", ClusterVersion.FEATURE, version.level(),
                    ClusterVersion.FEATURE, ClusterVersion.DATA_FILES);
        }
        return new ClusterVersionGate(version);
    }

    /** The newest on-disk format the version allowed when this broker started (decision 0028). */
    int allowedFormatAtStart() {
        return atStart.allowsDataFileRounds() ? LogStore.ROUNDS_FORMAT : atStart.allowsDataFiles() ? LogStore.DATA_FILES_FORMAT
                : LogStore.INLINE_FORMAT;
    }

    /** The finalized level as this broker last saw it. */
    int level() {
        return level;
    }

    void follow(MetadataCache cache, FatalErrorHandler fatal) {
        watch = cache.subscribe(ClusterVersion.KEY, change -> {
            if (change.isDelete() || !change.key().equals(ClusterVersion.KEY)) {
                return;
            }
            ClusterVersion now = ClusterVersion.of(java.util.Optional.of(change.after()));
            level = now.level();
            if (now.level() > ClusterVersion.LATEST) {
                fatal.fatal("the cluster was finalized at " + ClusterVersion.FEATURE + " " + now.level() + ", above the "
                        + ClusterVersion.LATEST + " this build supports: stopping; run a Capstan version that supports it", null);
            } else if (now.level() != atStart.level()) {
                log.info("the cluster is now at {} {}{}", ClusterVersion.FEATURE, now.level(), now.allowsDataFiles() && !atStart.allowsDataFiles()
                        ? "; data files (log.data.files) are used from this broker's next start" : "");
            }
        });
    }

    @Override
    public void close() throws Exception {
        watch.close();
    }
}
