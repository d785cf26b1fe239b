package io.capstan.broker.admin;

import io.capstan.broker.log.CommitStats;
import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import io.capstan.broker.net.NetMetrics;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import org.apache.kafka.common.protocol.ApiKeys;

/** Every Prometheus metric the broker exports (base units, _total for counters, _seconds for durations). */
public final class BrokerMetrics implements NetMetrics, CommitStats {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests = Counter.builder().name("capstan_requests_total")
            .help("Kafka requests answered, by API").labelNames("api").register(registry);
    private final Histogram requestLatency = Histogram.builder().name("capstan_request_latency_seconds")
            .help("Time from a request's arrival to its response being queued, by API").unit(Unit.SECONDS)
            .classicOnly().classicExponentialUpperBounds(0.0001, 2, 18).labelNames("api").register(registry);
    private final Histogram requestPhases = Histogram.builder().name("capstan_request_phase_seconds")
            .help("Where a request's time went, by API: local (decoding and handling it on the network thread), remote"
                    + " (waiting for the log, replicas or a parked fetch), response_queue (answered, behind earlier requests of its"
                    + " connection); Kafka's LocalTimeMs, RemoteTimeMs and ResponseQueueTimeMs").unit(Unit.SECONDS)
            .classicOnly().classicExponentialUpperBounds(0.00001, 2, 20).labelNames("api", "phase").register(registry);
    private final Counter bytesIn = Counter.builder().name("capstan_network_received_bytes_total")
            .help("Request bytes received").unit(Unit.BYTES).register(registry);
    private final Counter bytesOut = Counter.builder().name("capstan_network_sent_bytes_total")
            .help("Response bytes sent").unit(Unit.BYTES).register(registry);
    private final Gauge connections = Gauge.builder().name("capstan_connections")
            .help("Open client connections").register(registry);
    private final Counter rejectedFrames = Counter.builder().name("capstan_rejected_frames_total")
            .help("Connections closed for malformed, oversized or unsupported requests").register(registry);
    private final Counter internalErrors = Counter.builder().name("capstan_request_internal_errors_total")
            .help("Requests the broker failed by a fault of its own (a bug, not the client's input), by stage: handler, encode, pipeline;"
                    + " each closed its connection and logged the error").labelNames("stage").register(registry);
    private final Counter throttled = Counter.builder().name("capstan_client_throttle_seconds_total")
            .help("Time clients over a byte-rate quota were told to wait (throttle_time_ms), by request: Produce or Fetch")
            .labelNames("request").register(registry);
    private final Counter throttledRequests = Counter.builder().name("capstan_client_throttled_requests_total")
            .help("Requests answered with a throttle time because their client was over a byte-rate quota, by request")
            .labelNames("request").register(registry);
    private final Counter closedByBroker = Counter.builder().name("capstan_connections_closed_by_broker_total")
            .help("Connections the broker closed for a limit, by setting (max.connections, max.connections.per.ip, connections.max.idle.ms;"
                    + " broker.lease.ms: closed after a response while its lease had run out, so clients ask another broker)")
            .labelNames("setting").register(registry);
    private final Counter authFailures = Counter.builder().name("capstan_authentication_failures_total")
            .help("Failed TLS handshakes and SASL authentications, by listener and stage (tls or the SASL mechanism)")
            .labelNames("listener", "stage").register(registry);
    private final Counter authSuccesses = Counter.builder().name("capstan_authentications_total")
            .help("Successful SASL authentications and TLS handshakes, by listener and stage").labelNames("listener", "stage").register(registry);
    private final Histogram metadataStoreRequests = Histogram.builder().name("capstan_metadata_store_request_seconds")
            .help("Requests to the cluster's metadata store (the API server on Kubernetes), by operation and outcome: ok, conflict "
                    + "(a compare-and-set that lost a race), error").unit(Unit.SECONDS)
            .classicOnly().classicExponentialUpperBounds(0.0001, 2, 18).labelNames("operation", "outcome").register(registry);
    private final Histogram commitBatches = Histogram.builder().name("capstan_group_commit_batches")
            .help("Record batches written per group commit (one RocksDB write and WAL sync)")
            .classicOnly().classicExponentialUpperBounds(1, 2, 13).register(registry);
    private final Histogram commitBytes = Histogram.builder().name("capstan_group_commit_bytes")
            .help("Bytes written per group commit").unit(Unit.BYTES)
            .classicOnly().classicExponentialUpperBounds(1024, 4, 9).register(registry);
    private final Histogram commitLatency = Histogram.builder().name("capstan_group_commit_write_seconds")
            .help("Duration of the RocksDB write including the WAL fsync").unit(Unit.SECONDS)
            .classicOnly().classicExponentialUpperBounds(0.00005, 2, 18).register(registry);
    private final Histogram appendStages = Histogram.builder().name("capstan_log_append_stage_seconds")
            .help("Where an appended batch's time in the log went, as tracing's spans name it: queue (waiting for its group-commit"
                    + " round), write (the round's write into the page cache), sync_queue (waiting for the fsync before it to end),"
                    + " fsync (the fsync that made it durable; about 0 with log.flush.policy=interval, which does not sync each"
                    + " round); followers' copies included").unit(Unit.SECONDS)
            .classicOnly().classicExponentialUpperBounds(0.00001, 2, 20).labelNames("stage").register(registry);
    private final DistributionDataPoint appendQueue = appendStages.labelValues("queue");
    private final DistributionDataPoint appendWrite = appendStages.labelValues("write");
    private final DistributionDataPoint appendSyncQueue = appendStages.labelValues("sync_queue");
    private final DistributionDataPoint appendFsync = appendStages.labelValues("fsync");
    private final Counter commitFailures = Counter.builder().name("capstan_group_commit_failures_total")
            .help("Group commits that failed to write; their producers got KAFKA_STORAGE_ERROR").register(registry);

    public BrokerMetrics() {
        JvmMetrics.builder().register(registry);
    }

    /** Gauges read from the log at scrape time. */
    public void bindLog(LogManager logs) {
        GaugeWithCallback.builder().name("capstan_shard_log_end_offset").help("Next offset to be written (high watermark) per shard")
                .labelNames("topic", "partition")
                .callback(cb -> logs.catalog().shards().forEach(s -> cb.call(s.highWatermark(), labels(s))))
                .register(registry);
        GaugeWithCallback.builder().name("capstan_shard_log_start_offset").help("First offset retained per shard")
                .labelNames("topic", "partition")
                .callback(cb -> logs.catalog().shards().forEach(s -> cb.call(s.logStartOffset(), labels(s))))
                .register(registry);
        GaugeWithCallback.builder().name("capstan_shard_size_bytes").help("Bytes of record batches stored per shard").unit(Unit.BYTES)
                .labelNames("topic", "partition")
                .callback(cb -> logs.catalog().shards().forEach(s -> cb.call(s.sizeBytes(), labels(s))))
                .register(registry);
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("capstan_shard_produced_bytes_total")
                .help("Bytes producers appended to each shard this broker leads (replication not counted; Kafka's BytesInPerSec, per shard)")
                .unit(Unit.BYTES).labelNames("topic", "partition")
                .callback(cb -> logs.catalog().shards().forEach(s -> cb.call(s.traffic().bytesIn(), labels(s))))
                .register(registry);
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("capstan_shard_consumed_bytes_total")
                .help("Record bytes consumers read from each shard (followers not counted; Kafka's BytesOutPerSec, per shard)")
                .unit(Unit.BYTES).labelNames("topic", "partition")
                .callback(cb -> logs.catalog().shards().forEach(s -> cb.call(s.traffic().bytesOut(), labels(s))))
                .register(registry);
        rocksGauge(logs, "capstan_rocksdb_write_stopped", "1 while RocksDB stops writes (stall)", "rocksdb.is-write-stopped");
        rocksGauge(logs, "capstan_rocksdb_delayed_write_rate", "Write rate RocksDB throttles to while delaying writes (bytes/s, 0 = none)", "rocksdb.actual-delayed-write-rate");
        rocksGauge(logs, "capstan_rocksdb_pending_compaction_bytes", "Bytes RocksDB estimates compaction must rewrite", "rocksdb.estimate-pending-compaction-bytes");
        rocksGauge(logs, "capstan_rocksdb_memtable_bytes", "Bytes held in all memtables", "rocksdb.cur-size-all-mem-tables");
        rocksGauge(logs, "capstan_rocksdb_live_sst_bytes", "Bytes of live SST files", "rocksdb.live-sst-files-size");
        GaugeWithCallback.builder().name("capstan_log_pending_bytes").help("Produced bytes waiting for the group committer").unit(Unit.BYTES)
                .callback(cb -> cb.call(logs.pendingWrites().pendingBytes())).register(registry);
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("capstan_backpressure_pauses_total")
                .help("Times a connection stopped reading because queued.max.request.bytes was exceeded")
                .callback(cb -> cb.call(logs.pendingWrites().pauses())).register(registry);
        GaugeWithCallback.builder().name("capstan_disk_free_bytes").help("Usable bytes on the data volume").unit(Unit.BYTES)
                .callback(cb -> cb.call(logs.diskGuard().freeBytes())).register(registry);
        GaugeWithCallback.builder().name("capstan_disk_total_bytes").help("Size of the data volume").unit(Unit.BYTES)
                .callback(cb -> cb.call(logs.diskGuard().totalBytes())).register(registry);
        GaugeWithCallback.builder().name("capstan_disk_full").help("1 while produce is refused for lack of disk space")
                .callback(cb -> cb.call(logs.diskGuard().full() ? 1 : 0)).register(registry);
        bindCleaner(logs.cleanerStats());
        GaugeWithCallback.builder().name("capstan_data_files_bytes").help("Bytes of the data files on disk (log.data.files), referenced or not")
                .unit(Unit.BYTES).callback(cb -> cb.call(logs.dataFileStats()[0])).register(registry);
        GaugeWithCallback.builder().name("capstan_data_files_live_bytes")
                .help("Bytes of the data files that log entries still refer to; the rest goes as files are deleted or reclaimed")
                .unit(Unit.BYTES).callback(cb -> cb.call(logs.dataFileStats()[1])).register(registry);
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("capstan_data_files_reclaimed_total")
                .help("Mostly dead data files whose live batches were moved to the newest file (log.data.file.reclaim.ratio)")
                .callback(cb -> cb.call(logs.dataFileStats()[2])).register(registry);
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("capstan_data_files_moved_bytes_total")
                .help("Bytes of batches reclaiming read from mostly dead data files and handed to the committer to move (one dropped "
                        + "meanwhile is counted but not moved)")
                .callback(cb -> cb.call(logs.dataFileStats()[3])).register(registry);
    }

    /**
     * Replication as this broker sees it, after Kafka's ReplicaManager and controller metrics: what it leads and hosts,
     * which of the shards it leads lack followers (UnderReplicatedPartitions, UnderMinIsrPartitionCount), the ISR changes
     * of the shards it leads, and shards without a live leader (OfflinePartitionsCount: from the cluster's metadata, so every broker
     * reports the same figure; aggregate it with max, not sum).
     */
    /** A request to the metadata store ended ({@link io.capstan.cluster.metadata.TimedMetadataStore}). */
    public void metadataStoreRequest(String operation, long nanos, io.capstan.cluster.metadata.TimedMetadataStore.Outcome outcome) {
        metadataStoreRequests.labelValues(operation, outcome.name().toLowerCase(java.util.Locale.ROOT)).observe(nanos / 1e9);
    }

    public void bindReplication(io.capstan.broker.replica.ReplicaManager replicas, int me, java.util.function.IntSupplier defaultMinInsync) {
        io.capstan.cluster.view.ClusterView view = replicas.view();
        GaugeWithCallback.builder().name("capstan_leader_shards").help("Shards this broker leads")
                .callback(cb -> cb.call(count(view, s -> s.leader() == me))).register(registry);
        GaugeWithCallback.builder().name("capstan_replica_shards").help("Shards this broker holds a replica of (leading or following)")
                .callback(cb -> cb.call(count(view, s -> s.replicas().contains(me)))).register(registry);
        GaugeWithCallback.builder().name("capstan_under_replicated_shards")
                .help("Shards this broker leads whose in-sync replicas are fewer than their replicas")
                .callback(cb -> cb.call(count(view, s -> s.leader() == me && s.isr().size() < s.replicas().size()))).register(registry);
        GaugeWithCallback.builder().name("capstan_under_min_isr_shards")
                .help("Shards this broker leads with fewer in-sync replicas than min.insync.replicas: acks=all writes to them fail")
                .callback(cb -> cb.call(count(view, s -> s.leader() == me && s.isr().size() < minInsync(view, s.topic(), defaultMinInsync))))
                .register(registry);
        GaugeWithCallback.builder().name("capstan_offline_shards")
                .help("Shards with no live leader, from the cluster's metadata (the same on every broker: aggregate with max)")
                .callback(cb -> {
                    java.util.Set<Integer> alive = view.aliveBrokerIds();
                    cb.call(count(view, s -> s.leader() < 0 || !alive.contains(s.leader())));
                }).register(registry);
        GaugeWithCallback.builder().name("capstan_follower_lag_records_max")
                .help("Largest number of records any follower of a shard this broker leads lacks of the leader's log, as of its last fetch")
                .callback(cb -> cb.call(replicas.maxFollowerLag()[0])).register(registry);
        GaugeWithCallback.builder().name("capstan_follower_lag_seconds_max")
                .help("Longest time any follower of a shard this broker leads has not had everything the leader had "
                        + "(compared with replica.lag.time.max.ms to drop it from the ISR)")
                .callback(cb -> cb.call(replicas.maxFollowerLag()[1] / 1000.0)).register(registry);
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("capstan_isr_shrinks_total")
                .help("ISR changes that removed a replica from a shard this broker leads").callback(cb -> cb.call(replicas.isrShrinks()))
                .register(registry);
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("capstan_isr_expands_total")
                .help("ISR changes that added a replica back to a shard this broker leads").callback(cb -> cb.call(replicas.isrExpands()))
                .register(registry);
        GaugeWithCallback.builder().name("capstan_produce_awaiting_replication")
                .help("acks=all produced batches durable on this leader and waiting for the in-sync replicas (Kafka's produce purgatory)")
                .callback(cb -> cb.call(replicas.awaitingReplication())).register(registry);
    }

    private static long count(io.capstan.cluster.view.ClusterView view, java.util.function.Predicate<io.capstan.cluster.metadata.ShardState> which) {
        long n = 0;
        for (io.capstan.cluster.view.ClusterView.Shard shard : view.shards().values()) {
            if (which.test(shard.state())) {
                n++;
            }
        }
        return n;
    }

    private static int minInsync(io.capstan.cluster.view.ClusterView view, String topic, java.util.function.IntSupplier fallback) {
        var record = view.topic(topic);
        String setting = record == null || record.configs() == null ? null : record.configs().get("min.insync.replicas");
        return setting == null ? fallback.getAsInt() : Integer.parseInt(setting);
    }

    /**
     * When each TLS listener's certificate expires, in epoch milliseconds, as {@code expiryMs} reads it (at each scrape,
     * so a rotated file shows at once); a listener whose store cannot be read reports nothing (its own reload logs why).
     */
    public void bindCertificates(java.util.Map<String, java.util.concurrent.Callable<Long>> expiryMs) {
        if (expiryMs.isEmpty()) {
            return;
        }
        GaugeWithCallback.builder().name("capstan_tls_certificate_expiry_timestamp_seconds")
                .help("When the certificate this listener serves expires (Unix time)").labelNames("listener")
                .callback(cb -> expiryMs.forEach((listener, expiry) -> {
                    try {
                        cb.call(expiry.call() / 1000.0, listener);
                    } catch (Exception unreadable) {
                        // reported by the listener's reload
                    }
                })).register(registry);
    }

    /** The log cleaner (compacted topics), after Kafka's kafka.log:type=LogCleaner and LogCleanerManager metrics. */
    private void bindCleaner(io.capstan.broker.log.CleanerStats cleaner) {
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("capstan_log_cleaner_passes_total")
                .help("Shards the cleaner compacted (one pass each)").callback(cb -> cb.call(cleaner.passes())).register(registry);
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("capstan_log_cleaner_read_bytes_total")
                .help("Bytes of batches the cleaner read").callback(cb -> cb.call(cleaner.bytesRead())).register(registry);
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("capstan_log_cleaner_removed_bytes_total")
                .help("Bytes compaction removed from the log").callback(cb -> cb.call(cleaner.bytesRemoved())).register(registry);
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("capstan_log_cleaner_range_rewrites_total")
                .help("Times a shard's files were rewritten to return the space compaction freed to the disk")
                .callback(cb -> cb.call(cleaner.rangeRewrites())).register(registry);
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("capstan_log_cleaner_freed_bytes_total")
                .help("Bytes of table files those rewrites freed").callback(cb -> cb.call(cleaner.bytesFreed())).register(registry);
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("capstan_log_cleaner_failures_total")
                .help("Compaction passes that failed (retried next round; the log says why)").callback(cb -> cb.call(cleaner.failures())).register(registry);
        GaugeWithCallback.builder().name("capstan_log_cleaner_max_dirty_ratio")
                .help("Largest share of not-yet-compacted bytes among compacted shards (Kafka's max-dirty-percent / 100)")
                .callback(cb -> cb.call(cleaner.maxDirtyRatio())).register(registry);
        GaugeWithCallback.builder().name("capstan_log_cleaner_max_compaction_delay_seconds")
                .help("How far past max.compaction.lag.ms the most overdue compacted shard is (cleaner lag; 0: none overdue)")
                .callback(cb -> cb.call(cleaner.maxCompactionDelayMs() / 1000.0)).register(registry);
        GaugeWithCallback.builder().name("capstan_log_cleaner_last_pass_seconds").help("Duration of the cleaner's last compaction pass")
                .callback(cb -> cb.call(cleaner.lastPassMs() / 1000.0)).register(registry);
    }

    /** Request spans sent to the tracing collector, or lost because the export failed (decision 0032). */
    public void bindTracing(java.util.function.LongSupplier exported, java.util.function.LongSupplier failed) {
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("capstan_trace_spans_total")
                .help("Request spans exported to tracing.otlp.endpoint (outcome=exported) or lost to a failed export (outcome=failed)")
                .labelNames("outcome")
                .callback(cb -> {
                    cb.call(exported.getAsLong(), "exported");
                    cb.call(failed.getAsLong(), "failed");
                }).register(registry);
    }

    /** Long-poll fetches waiting for data. */
    public void bindFetchPurgatory(io.capstan.broker.kafka.FetchPurgatory purgatory) {
        GaugeWithCallback.builder().name("capstan_fetch_parked").help("Parked long-poll fetch registrations (a fetch waiting on N shards counts N times)")
                .callback(cb -> cb.call(purgatory.parked())).register(registry);
    }

    /** Per group and shard: committed offset and lag (log end minus committed), plus group sizes. */
    public void bindGroups(io.capstan.broker.group.GroupCoordinator groups) {
        GaugeWithCallback.builder().name("capstan_group_committed_offset").help("Committed offset per group and shard")
                .labelNames("group", "topic", "partition")
                .callback(cb -> groups.groupIds().forEach(g -> groups.committed(g).forEach((tp, c) ->
                        cb.call(c.offset(), g, tp.topic(), String.valueOf(tp.partition())))))
                .register(registry);
        GaugeWithCallback.builder().name("capstan_group_lag_records").help("Records between a group's committed offset and the log end, per shard")
                .labelNames("group", "topic", "partition")
                .callback(cb -> groups.groupIds().forEach(g -> groups.committed(g).forEach((tp, c) -> {
                    var shard = groups.logs().catalog().shard(tp);
                    if (shard != null) {
                        cb.call(Math.max(0, shard.highWatermark() - c.offset()), g, tp.topic(), String.valueOf(tp.partition()));
                    }
                })))
                .register(registry);
        GaugeWithCallback.builder().name("capstan_group_members").help("Members per group").labelNames("group", "state")
                .callback(cb -> {
                    groups.list().forEach(v -> cb.call(v.members().size(), v.groupId(), v.state().kafkaName()));
                    groups.consumerGroups().forEach(v -> cb.call(v.members().size(), v.groupId(), v.state().kafkaName()));
                })
                .register(registry);
        GaugeWithCallback.builder().name("capstan_consumer_group_epoch").help("Group epoch of a consumer-protocol group (KIP-848): it moves"
                        + " each time membership, a subscription or a subscribed topic changes").labelNames("group")
                .callback(cb -> groups.consumerGroups().forEach(v -> cb.call(v.groupEpoch(), v.groupId())))
                .register(registry);
        GaugeWithCallback.builder().name("capstan_group_last_rebalance_seconds").help("Duration of the group's last rebalance")
                .unit(Unit.SECONDS).labelNames("group")
                .callback(cb -> groups.list().forEach(v -> cb.call(v.lastRebalanceMs() / 1000.0, v.groupId())))
                .register(registry);
    }

    /**
     * The transaction coordinator's ids by state and the age of its oldest open transaction, and per shard the records
     * between the last stable offset and the high watermark that read_committed consumers cannot read yet (a value that
     * stays up names a hanging transaction: `kafka-transactions find-hanging`).
     */
    public void bindTransactions(io.capstan.broker.txn.TransactionCoordinator transactions, LogManager logs) {
        GaugeWithCallback.builder().name("capstan_transactions").help("Transactional ids this broker coordinates, by state")
                .labelNames("state")
                .callback(cb -> {
                    java.util.Map<io.capstan.broker.txn.TxnState, Integer> byState = new java.util.EnumMap<>(io.capstan.broker.txn.TxnState.class);
                    transactions.all().forEach(t -> byState.merge(t.state(), 1, Integer::sum));
                    byState.forEach((state, n) -> cb.call(n, state.kafkaName()));
                })
                .register(registry);
        GaugeWithCallback.builder().name("capstan_transaction_oldest_open_seconds").help("Age of the oldest open transaction this broker coordinates")
                .unit(Unit.SECONDS)
                .callback(cb -> {
                    long now = System.currentTimeMillis();
                    long oldest = transactions.all().stream().filter(t -> t.state() == io.capstan.broker.txn.TxnState.ONGOING)
                            .mapToLong(io.capstan.broker.txn.TxnMetadata::txnStartMs).min().orElse(now);
                    cb.call(Math.max(0, now - oldest) / 1000.0);
                })
                .register(registry);
        GaugeWithCallback.builder().name("capstan_shard_unstable_records").help("Records of a shard above its last stable offset:"
                        + " not yet readable by read_committed consumers (only shards with some)")
                .labelNames("topic", "partition")
                .callback(cb -> logs.catalog().shards().forEach(shard -> {
                    long unstable = shard.highWatermark() - shard.lastStableOffset();
                    if (unstable > 0) {
                        cb.call(unstable, shard.topicPartition().topic(), String.valueOf(shard.topicPartition().partition()));
                    }
                }))
                .register(registry);
    }

    private void rocksGauge(LogManager logs, String name, String help, String property) {
        GaugeWithCallback.builder().name(name).help(help)
                .callback(cb -> cb.call(logs.store().dbProperty(property))).register(registry);
    }

    private static String[] labels(Shard s) {
        return new String[] {s.topicPartition().topic(), String.valueOf(s.topicPartition().partition())};
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    @Override
    public void connectionOpened() {
        connections.inc();
    }

    @Override
    public void connectionClosed() {
        connections.dec();
    }

    @Override
    public void request(ApiKeys api, long totalNanos, long localNanos, long remoteNanos, long responseQueueNanos,
                        int requestBytes, int responseBytes) {
        requests.labelValues(api.name).inc();
        requestLatency.labelValues(api.name).observe(totalNanos / 1e9);
        requestPhases.labelValues(api.name, "local").observe(localNanos / 1e9);
        requestPhases.labelValues(api.name, "remote").observe(remoteNanos / 1e9);
        requestPhases.labelValues(api.name, "response_queue").observe(responseQueueNanos / 1e9);
        bytesIn.inc(requestBytes);
        bytesOut.inc(responseBytes);
    }

    @Override
    public void rejectedFrame(String reason) {
        rejectedFrames.inc();
    }

    @Override
    public void internalError(String stage) {
        internalErrors.labelValues(stage).inc();
    }

    @Override
    public void throttled(ApiKeys api, long ms) {
        throttled.labelValues(api.name).inc(ms / 1000.0);
        throttledRequests.labelValues(api.name).inc();
    }

    @Override
    public void closedByBroker(String setting) {
        closedByBroker.labelValues(setting).inc();
    }

    @Override
    public void authenticationFailed(String listener, String stage) {
        authFailures.labelValues(listener, stage).inc();
    }

    @Override
    public void authenticated(String listener, String stage) {
        authSuccesses.labelValues(listener, stage).inc();
    }

    @Override
    public void round(int batches, long bytes, long writeNanos) {
        commitBatches.observe(batches);
        commitBytes.observe(bytes);
        commitLatency.observe(writeNanos / 1e9);
    }

    @Override
    public void appended(long queueNanos, long writeNanos, long syncQueueNanos, long fsyncNanos) {
        appendQueue.observe(queueNanos / 1e9);
        appendWrite.observe(writeNanos / 1e9);
        appendSyncQueue.observe(syncQueueNanos / 1e9);
        appendFsync.observe(fsyncNanos / 1e9);
    }

    @Override
    public void failed() {
        commitFailures.inc();
    }
}
