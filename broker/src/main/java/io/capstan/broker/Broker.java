package io.capstan.broker;

import io.capstan.broker.kafka.GroupAccessGate;
import io.capstan.broker.kafka.DescribeClientQuotasHandler;
import io.capstan.broker.kafka.AlterClientQuotasHandler;
import io.capstan.broker.kafka.DeleteAclsHandler;
import io.capstan.broker.kafka.DescribeAclsHandler;
import io.capstan.broker.kafka.CreateAclsHandler;
import io.capstan.broker.replica.EmptyLogRejoin;
import io.capstan.broker.replica.InterBrokerTransport;
import io.capstan.broker.security.ScramCredentialStore;
import io.capstan.broker.config.CurrentConfig;
import io.capstan.broker.replica.ReplicationQuotas;
import io.capstan.broker.config.DynamicConfigStore;
import io.capstan.broker.quota.ClientQuotaStore;
import io.capstan.broker.quota.ClientThrottles;
import io.capstan.broker.quota.ResponseThrottle;
import io.capstan.broker.security.AclStore;
import io.capstan.broker.security.AclAuthorizer;
import io.capstan.broker.security.Authorizer;
import io.capstan.broker.admin.AdminServer;
import io.capstan.broker.admin.BrokerMetrics;
import io.capstan.config.BrokerConfig;
import io.capstan.broker.group.GroupCoordinator;
import io.capstan.broker.group.GroupSettings;
import io.capstan.broker.kafka.ApiRegistry;
import io.capstan.broker.kafka.DeleteGroupsHandler;
import io.capstan.broker.kafka.DescribeGroupsHandler;
import io.capstan.broker.kafka.FindCoordinatorHandler;
import io.capstan.broker.kafka.HeartbeatHandler;
import io.capstan.broker.kafka.JoinGroupHandler;
import io.capstan.broker.kafka.LeaveGroupHandler;
import io.capstan.broker.kafka.ListGroupsHandler;
import io.capstan.broker.kafka.OffsetCommitHandler;
import io.capstan.broker.kafka.OffsetFetchHandler;
import io.capstan.broker.kafka.SyncGroupHandler;
import io.capstan.broker.kafka.ApiVersionsHandler;
import io.capstan.broker.kafka.BrokerIdentity;
import io.capstan.broker.kafka.CreateTopicsHandler;
import io.capstan.broker.kafka.DeleteTopicsHandler;
import io.capstan.broker.kafka.DescribeClusterHandler;
import io.capstan.broker.kafka.DescribeTopicPartitionsHandler;
import io.capstan.broker.kafka.DescribeProducersHandler;
import io.capstan.broker.kafka.AlterConfigsHandler;
import io.capstan.broker.kafka.CreatePartitionsHandler;
import io.capstan.broker.kafka.DeleteRecordsHandler;
import io.capstan.broker.kafka.DescribeLogDirsHandler;
import io.capstan.broker.kafka.OffsetDeleteHandler;
import io.capstan.broker.kafka.DescribeConfigsHandler;
import io.capstan.broker.kafka.IncrementalAlterConfigsHandler;
import io.capstan.broker.kafka.FetchHandler;
import io.capstan.broker.kafka.FetchPurgatory;
import io.capstan.broker.kafka.InitProducerIdHandler;
import io.capstan.broker.kafka.ListOffsetsHandler;
import io.capstan.broker.kafka.MetadataHandler;
import io.capstan.broker.kafka.ProduceHandler;
import io.capstan.broker.log.FatalErrorHandler;
import io.capstan.broker.log.LogManager;
import io.capstan.broker.kafka.Membership;
import io.capstan.broker.kafka.OffsetForLeaderEpochHandler;
import io.capstan.broker.kafka.ElectLeadersHandler;
import io.capstan.broker.kafka.CoordinatorGate;
import io.capstan.broker.group.OffsetStore;
import io.capstan.broker.log.Shard;
import org.apache.kafka.common.TopicPartition;
import io.capstan.broker.kafka.AlterPartitionReassignmentsHandler;
import io.capstan.broker.kafka.ListPartitionReassignmentsHandler;
import io.capstan.cluster.topics.Reassignments;
import io.capstan.broker.kafka.ClusterMembership;
import io.capstan.cluster.topics.ClusterTopics;
import io.capstan.broker.replica.ReplicaManager;
import io.capstan.cluster.controller.BrokerLease;
import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataCache;
import io.capstan.cluster.view.ClusterView;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.version.ClusterVersion;
import io.capstan.broker.net.KafkaServer;
import io.capstan.broker.net.ListenerSecurities;
import io.capstan.broker.kafka.SaslOutOfPlace;
import io.capstan.broker.kafka.DescribeUserScramCredentialsHandler;
import io.capstan.broker.kafka.AlterUserScramCredentialsHandler;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.protocol.ApiKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Composition root of one broker: log, cluster membership, Kafka listener, admin HTTP. Every broker is a member of a
 * cluster; without a shared metadata store it is a cluster of one over a store embedded in its data directory.
 */
public final class Broker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Broker.class);
    /** How long a broker waits for the metadata store's first listing before giving up on starting. */
    private static final java.time.Duration METADATA_SYNC_TIMEOUT = java.time.Duration.ofMinutes(2);

    private final BrokerConfig config;
    private final BrokerMetrics metrics = new BrokerMetrics();
    private final FetchPurgatory purgatory = new FetchPurgatory();
    private final LogManager logs;
    private final GroupCoordinator groups;
    private final io.capstan.broker.txn.TransactionCoordinator transactions;
    private io.capstan.broker.txn.MarkerWriter markerWriter;
    private io.capstan.broker.replica.PeerRequests peers;
    private final KafkaServer kafka;
    private final io.capstan.broker.trace.RequestTracer tracer;
    private final AdminServer admin;
    private final MetadataStore store;
    private final ClusterVersionGate clusterVersion;
    private final ClusterView view;
    private final ReplicaManager replicas;
    private final ClusterTopics topics;
    private final Membership membership;
    private volatile BrokerLease lease;
    private volatile boolean ready;
    private volatile boolean live = true;
    private String rack;
    private final ScramCredentialStore scram;
    private final ClientQuotaStore quotas;
    /** The settings as they are now: the ones started with, changed live by dynamic broker configs. */
    private final CurrentConfig current;
    private final DynamicConfigStore brokerConfigs;
    private final AclStore acls;
    private final Authorizer authorizer;
    /** Store writes of admin requests (CreateTopics), kept off the network threads. */
    private final java.util.concurrent.ExecutorService controlRequests = java.util.concurrent.Executors.newSingleThreadExecutor(
            io.capstan.cluster.DaemonThreads.named("capstan-control-requests"));
    /** Everything opened so far, closed in reverse if the constructor fails. */
    private final java.util.Deque<AutoCloseable> opened = new java.util.ArrayDeque<>();

    /** A broker that halts its process on a fatal error (a failed WAL fsync, a dead data-path thread). */
    public Broker(BrokerConfig config, Map<String, String> settings) {
        this(config, settings, FatalErrorHandler.haltProcess());
    }

    /**
     * {@code onFatal}: what happens after a fatal error has made this broker refuse every write and report itself not
     * live and not ready (tests that run brokers in their own JVM record it instead of halting).
     */
    public Broker(BrokerConfig config, Map<String, String> settings, FatalErrorHandler onFatal) {
        this.config = config;
        this.current = new CurrentConfig(config);
        FatalErrorHandler fatal = (what, cause) -> {
            live = false;
            ready = false;
            onFatal.fatal(what, cause);
        };
        BrokerConfig.Replication cluster = config.replication();
        opened(controlRequests::shutdownNow);
        try {
            // the admin port comes first so that liveness holds while a large log recovers; /readyz says 503 until then
            this.admin = config.adminPort() < 0 ? null : opened(new AdminServer(config.host(), config.adminPort(), metrics.registry(),
                    () -> live, () -> ready, config.adminTokenFile(), config.security().secured()));
            ReplicaManager[] committedTo = new ReplicaManager[1];
            // the cluster version first: it decides what the log may write (decision 0028)
            this.store = opened(new io.capstan.cluster.metadata.TimedMetadataStore(openStore(cluster), metrics::metadataStoreRequest));
            this.clusterVersion = opened(ClusterVersionGate.atStart(store, config));
            this.logs = opened(new LogManager(config, current, clusterVersion.allowedFormatAtStart(), shard -> {
                ReplicaManager r = committedTo[0];
                if (r != null) {
                    r.committed(shard);
                }
                purgatory.committed(shard);
            }, metrics, fatal));
            this.groups = opened(new GroupCoordinator(logs, new GroupSettings(config.groupMinSessionTimeoutMs(),
                    config.groupMaxSessionTimeoutMs(), config.groupInitialRebalanceDelayMs(), config.offsetsCompactionBytes()),
                    consumerGroupSettings(config.consumerGroups()), new ViewTopics()));
            metrics.bindLog(logs);
            metrics.bindGroups(groups);
            int me = config.nodeId();
            this.transactions = opened(new io.capstan.broker.txn.TransactionCoordinator(logs, () -> logs.producerIds().next() * 4096 + me,
                    new io.capstan.broker.txn.TransactionCoordinator.Settings(config.transactions().maxTimeoutMs(),
                            config.transactions().abortCheckIntervalMs())));
            metrics.bindTransactions(transactions, logs);
            metrics.bindFetchPurgatory(purgatory);
            java.util.Map<String, java.util.concurrent.Callable<Long>> certificateExpiries = new java.util.LinkedHashMap<>();
            config.security().ssl().forEach((listener, ssl) ->
                    certificateExpiries.put(listener, () -> io.capstan.broker.security.KeyMaterial.earliestLeafExpiryMs(ssl)));
            metrics.bindCertificates(certificateExpiries);
            BrokerIdentity identity = new BrokerIdentity(config.nodeId(), config.clusterId(), config.security().listeners(),
                    config.security().interBrokerListener());
            if (cluster.embedded()) {
                EmbeddedCluster.prepare(store, config.nodeId(), config.dataDir(), logs);
            }
            MetadataCache cache = opened(MetadataCache.open(store, METADATA_SYNC_TIMEOUT));
            clusterVersion.follow(cache, fatal);
            this.view = opened(new ClusterView(cache, System::currentTimeMillis));
            this.brokerConfigs = opened(new DynamicConfigStore(cache, config.nodeId(), settings, current));
            this.replicas = opened(new ReplicaManager(config.nodeId(), logs, view, cluster, purgatory,
                    cluster.embedded() ? InterBrokerTransport.alone() : InterBrokerTransport.of(config.security()),
                    () -> current.get().replication().minInsyncReplicas(),
                    new ReplicationQuotas(() -> current.get().replication().leaderThrottledRate(),
                            () -> current.get().replication().followerThrottledRate(), System::currentTimeMillis)));
            committedTo[0] = replicas;
            metrics.bindReplication(replicas, config.nodeId(), () -> current.get().replication().minInsyncReplicas());
            this.topics = new ClusterTopics(view);
            this.markerWriter = new io.capstan.broker.txn.MarkerWriter(logs, replicas, current);
            markerWriter.listen(OffsetStore.TOPIC, (shard, producerId, commit, offset, replication) ->
                    groups.markerAppended(producerId, commit, offset, replication));
            this.peers = opened(new io.capstan.broker.replica.PeerRequests(config.nodeId(), view,
                    cluster.embedded() ? InterBrokerTransport.alone() : InterBrokerTransport.of(config.security())));
            transactions.markers(new io.capstan.broker.txn.MarkerSender(config.nodeId(), this::leaderOf, markerWriter,
                    (broker, request) -> peers.<org.apache.kafka.common.message.WriteTxnMarkersResponseData>send(broker,
                            ApiKeys.WRITE_TXN_MARKERS, (short) 1, request), transactions.executor()));
            this.membership = coordinateGroups(identity);
            this.scram = opened(new ScramCredentialStore(cache));
            this.acls = opened(new AclStore(cache));
            this.quotas = opened(new ClientQuotaStore(cache));
            this.authorizer = config.security().authorizerEnabled()
                    ? new AclAuthorizer(acls, config.security().superUsers(), config.security().allowEveryoneIfNoAclFound())
                    : Authorizer.ALLOW_ALL;
            this.tracer = opened(config.tracing().enabled()
                    ? new io.capstan.broker.trace.OtlpRequestTracer(config.tracing(), config.nodeId(), config.clusterId())
                    : io.capstan.broker.trace.RequestTracer.NONE);
            metrics.bindTracing(tracer::exportedSpans, tracer::failedSpans);
            this.kafka = opened(new KafkaServer(ListenerSecurities.of(config.security(), scram), config.socketRequestMaxBytes(),
                    apis(identity), metrics, logs.pendingWrites(), authorizer, () -> current.get().limits(),
                    new ResponseThrottle(new ClientThrottles(quotas, System::currentTimeMillis,
                            config.limits().quotaWindowNum(), config.limits().quotaWindowSizeSeconds() * 1000L)),
                    new io.capstan.broker.net.ConnectionSteering(this::leaseLapsed), tracer));
            config.security().listeners().forEach(l -> identity.boundTo(l.name(), kafka.port(l.name())));
            join(identity);
        } catch (RuntimeException e) {
            closeOpened();
            throw e;
        }
        opened.clear();
        ready = true;
        log.info("broker {} ready: kafka {}:{}, admin port {}, data {}, metadata {}", config.nodeId(), config.advertisedHost(),
                kafka.port(), admin == null ? "disabled" : admin.port(), config.dataDir().toAbsolutePath(),
                cluster.embedded() ? "embedded (a cluster of one)" : cluster.metadataStore().toString().toLowerCase(java.util.Locale.ROOT));
    }

    private <T extends AutoCloseable> T opened(T resource) {
        opened.push(resource);
        return resource;
    }

    private void closeOpened() {
        while (!opened.isEmpty()) {
            try {
                opened.pop().close();
            } catch (Exception suppressed) {
                log.warn("while stopping a broker that failed to start: {}", suppressed.toString());
            }
        }
    }

    private MetadataStore openStore(BrokerConfig.Replication settings) {
        rack = settings.rack();
        if (settings.metadataStore() != BrokerConfig.MetadataStoreKind.KUBERNETES) {
            return new LocalFileMetadataStore(settings.metadataDir(), 100);
        }
        io.fabric8.kubernetes.client.KubernetesClient kube = new io.fabric8.kubernetes.client.KubernetesClientBuilder().build();
        if (!settings.rackNodeLabel().isEmpty()) {
            rack = io.capstan.cluster.metadata.NodeRack.resolve(kube, System.getenv("NODE_NAME"), settings.rackNodeLabel());
            log.info("broker {}: rack {} (label {} of node {})", config.nodeId(), rack, settings.rackNodeLabel(), System.getenv("NODE_NAME"));
        }
        return new io.capstan.cluster.metadata.KubernetesMetadataStore(kube, settings.metadataNamespace(), settings.metadataName(),
                io.capstan.cluster.metadata.KubernetesMetadataStore.ObjectKind.named(settings.metadataKubernetesKind()));
    }

    /** The leader of the offsets shard coordinates consumer groups; it is created the first time a client asks. */
    private Membership coordinateGroups(BrokerIdentity identity) {
        BrokerConfig.Replication settings = config.replication();
        TopicPartition offsetsShard = new TopicPartition(OffsetStore.TOPIC, 0);
        replicas.onLeadership(offsetsShard, new ReplicaManager.LeadershipListener() {
            @Override
            public void leading(Shard shard, int epoch) {
                groups.activate(shard, epoch, (s, lastOffset) -> replicas.awaitReplicated(s, lastOffset, settings.minInsyncReplicas(), 30_000));
                log.info("broker {}: coordinating consumer groups (leader of {})", config.nodeId(), offsetsShard);
            }

            @Override
            public void resigned() {
                groups.deactivate();
                log.info("broker {}: no longer coordinating consumer groups", config.nodeId());
            }
        });
        TopicPartition transactionsShard = new TopicPartition(io.capstan.broker.txn.TransactionCoordinator.TOPIC, 0);
        replicas.onLeadership(transactionsShard, new ReplicaManager.LeadershipListener() {
            @Override
            public void leading(Shard shard, int epoch) {
                transactions.activate(shard, epoch, (s, lastOffset) -> replicas.awaitReplicated(s, lastOffset, settings.minInsyncReplicas(), 30_000));
                log.info("broker {}: coordinating transactions (leader of {})", config.nodeId(), transactionsShard);
            }

            @Override
            public void resigned() {
                transactions.deactivate();
                log.info("broker {}: no longer coordinating transactions", config.nodeId());
            }
        });
        return new ClusterMembership(view, identity, offsetsShard, this::createOffsetsShard, transactionsShard, this::createTransactionsShard);
    }

    /**
     * KIP-890 part 1, asked by a partition leader before a producer's first transactional batch there: is the partition in
     * its ongoing transaction? Answered here if this broker coordinates, else by AddPartitionsToTxn v4 (verifyOnly) to the
     * coordinator.
     */
    private java.util.concurrent.CompletableFuture<org.apache.kafka.common.protocol.Errors> verifyInTransaction(String transactionalId,
            long producerId, short epoch, TopicPartition tp, boolean add) {
        io.capstan.broker.kafka.Membership.Node coordinator = membership.transactionCoordinator(transactionalId);
        if (coordinator == null) {
            return java.util.concurrent.CompletableFuture.completedFuture(org.apache.kafka.common.protocol.Errors.COORDINATOR_NOT_AVAILABLE);
        }
        if (coordinator.id() == config.nodeId()) {
            return add ? transactions.addPartitions(transactionalId, producerId, epoch, java.util.List.of(tp))
                    : transactions.verify(transactionalId, producerId, epoch, tp);
        }
        var topics = new org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection();
        topics.add(new org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic().setName(tp.topic())
                .setPartitions(java.util.List.of(tp.partition())));
        var txns = new org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTransactionCollection();
        txns.add(new org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction()
                .setTransactionalId(transactionalId).setProducerId(producerId).setProducerEpoch(epoch).setVerifyOnly(!add).setTopics(topics));
        return peers.<org.apache.kafka.common.message.AddPartitionsToTxnResponseData>send(coordinator.id(), ApiKeys.ADD_PARTITIONS_TO_TXN,
                (short) 4, new org.apache.kafka.common.message.AddPartitionsToTxnRequestData().setTransactions(txns)).handle((response, failure) -> {
                    if (failure != null) {
                        return org.apache.kafka.common.protocol.Errors.NETWORK_EXCEPTION;
                    }
                    if (response.errorCode() != 0) {
                        return org.apache.kafka.common.protocol.Errors.forCode(response.errorCode());
                    }
                    for (var result : response.resultsByTransaction()) {
                        for (var topic : result.topicResults()) {
                            for (var partition : topic.resultsByPartition()) {
                                return org.apache.kafka.common.protocol.Errors.forCode(partition.partitionErrorCode());
                            }
                        }
                    }
                    return org.apache.kafka.common.protocol.Errors.UNKNOWN_SERVER_ERROR;
                });
    }

    /** The leader of a partition per the metadata, for marker delivery: -1 while it has none, GONE once its topic is deleted. */
    private int leaderOf(TopicPartition tp) {
        io.capstan.cluster.metadata.ShardState state = view.state(tp.topic(), tp.partition());
        if (state == null) {
            return view.topic(tp.topic()) == null ? io.capstan.broker.txn.MarkerSender.GONE : -1;
        }
        return state.leader();
    }

    /** Creates the transaction-log shard (compacted: only each id's newest state matters) when first asked for. */
    private void createTransactionsShard() {
        createInternalShard(io.capstan.broker.txn.TransactionCoordinator.TOPIC, Map.of("retention.ms", "-1", "cleanup.policy", "compact"));
    }

    /** Creates the offsets shard if no broker has yet; a creation that fails now is tried again when next asked. */
    private void createOffsetsShard() {
        createInternalShard(OffsetStore.TOPIC, Map.of("retention.ms", "-1"));
    }

    private void createInternalShard(String topic, Map<String, String> configs) {
        BrokerConfig.Replication settings = config.replication();
        try {
            topics.create(topic, org.apache.kafka.common.Uuid.randomUuid().toString(), 1,
                    Math.min(settings.defaultReplicationFactor(), Math.max(1, topics.liveBrokers(settings.defaultReplicationFactor()))),
                    configs);
            replicas.requestSync();
        } catch (ConflictException exists) {
            replicas.requestSync();
        } catch (RuntimeException e) {
            log.warn("cannot create {} yet: {}", topic, e.toString());
        }
    }

    /** Once the listener is bound: register (so others can reach this broker), then take the roles the metadata gives. */
    private void join(BrokerIdentity identity) {
        BrokerConfig.Replication settings = config.replication();
        BrokerLease lease = new BrokerLease(store, new BrokerRegistration(config.nodeId(), identity.host(), identity.port(),
                rack, 0, admin == null ? 0 : admin.port(), identity.endpoints()).supportingUpTo(ClusterVersion.LATEST), settings.leaseMs(), settings.heartbeatMs(), System::currentTimeMillis);
        if (!settings.embedded() && logs.store().freshLog()) {
            // a new disk under a broker the metadata may count in sync: it must not be elected before it has copied anything
            EmptyLogRejoin.leaveInSyncSets(view, config.nodeId());
            logs.store().freshLogHandled();
        }
        try {
            long registered = lease.start();
            opened(lease); // a start that fails after this stops renewing it
            if (!view.cache().awaitRevision(registered, METADATA_SYNC_TIMEOUT)) {
                throw new IllegalStateException("broker " + config.nodeId() + " registered but its metadata watch did not show it within "
                        + METADATA_SYNC_TIMEOUT + "; check the metadata store");
            }
        } catch (ConflictException e) {
            throw new IllegalStateException("cannot register broker " + config.nodeId() + " in " + settings.metadataDir()
                    + ": " + e.getMessage() + "; is another broker running with node.id " + config.nodeId() + "?", e);
        }
        this.lease = lease;
        replicas.fenceWithoutLease(lease::held);
        replicas.start();
        replicas.syncNow();
        if (settings.embedded()) {
            coordinateAtOnce();
        }
        if (admin != null) {
            admin.route("/replicas", () -> new AdminServer.Reply(200, "application/json",
                    new String(io.capstan.cluster.metadata.MetadataCodec.encode(replicas.progress()), java.nio.charset.StandardCharsets.UTF_8)));
            admin.action("/controlled-shutdown", () -> {
                int moved = replicas.moveLeadershipAway();
                return new AdminServer.Reply(200, "text/plain", "handed " + moved + " shard(s) to other brokers; stop me now\n");
            });
            admin.route("/restart-safety", () -> {
                var verdict = replicas.restartSafety();
                String reasons = String.join(",", verdict.reasons().stream().map(Broker::json).toList());
                return new AdminServer.Reply(verdict.safe() ? 200 : 409, "application/json",
                        "{\"broker\":" + config.nodeId() + ",\"safe\":" + verdict.safe() + ",\"reasons\":[" + reasons + "]}\n");
            });
        }
    }

    /**
     * A cluster of one has no other broker to wait for: it creates its offsets shard at start (where a shared cluster
     * creates it when a client first looks for a coordinator) and is ready once it coordinates groups.
     */
    private void coordinateAtOnce() {
        createOffsetsShard();
        replicas.syncNow();
        try {
            if (!groups.awaitCoordinating(METADATA_SYNC_TIMEOUT)) {
                throw new IllegalStateException("broker " + config.nodeId() + " leads " + OffsetStore.TOPIC
                        + " but did not start coordinating groups within " + METADATA_SYNC_TIMEOUT + "; see the log above");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting", e);
        }
    }

    private ApiRegistry apis(BrokerIdentity identity) {
        ApiRegistry apis = new ApiRegistry();
        int nodeId = config.nodeId();
        java.util.function.LongUnaryOperator producerIds = local -> local * 4096 + nodeId;
        Runnable metadataChanged = replicas::requestSync;
        Reassignments reassignments = new Reassignments(store, System::currentTimeMillis);
        CreateTopicsHandler createTopics = new CreateTopicsHandler(topics, config.defaultPartitions(),
                config.replication().defaultReplicationFactor(), this::awaitApplied, controlRequests, config.limits().maxPartitions());
        return apis.add(ApiKeys.API_VERSIONS, new ApiVersionsHandler(apis, () -> current.get().transactions().version(), clusterVersion::level))
                .add(ApiKeys.UPDATE_FEATURES, (short) 0, (short) 1, new io.capstan.broker.kafka.UpdateFeaturesHandler(
                        new io.capstan.cluster.version.ClusterVersionStore(store), controlRequests))
                .add(ApiKeys.METADATA, new MetadataHandler(identity, membership, view, config.autoCreateTopics() ? createTopics::autoCreate : null))
                .add(ApiKeys.PRODUCE, new ProduceHandler(logs, replicas, current, this::verifyInTransaction))
                .add(ApiKeys.FETCH, new FetchHandler(logs, purgatory, replicas, config.limits().fetchMaxBytes(),
                        new io.capstan.broker.kafka.FetchSessions(config.limits().fetchSessionSlots())))
                .add(ApiKeys.LIST_OFFSETS, new ListOffsetsHandler(logs, replicas))
                .add(ApiKeys.OFFSET_FOR_LEADER_EPOCH, new OffsetForLeaderEpochHandler(logs, replicas))
                .add(ApiKeys.ELECT_LEADERS, new ElectLeadersHandler(view))
                .add(ApiKeys.ALTER_PARTITION_REASSIGNMENTS, new AlterPartitionReassignmentsHandler(reassignments, metadataChanged))
                .add(ApiKeys.LIST_PARTITION_REASSIGNMENTS, new ListPartitionReassignmentsHandler(reassignments))
                .add(ApiKeys.CREATE_TOPICS, createTopics)
                .add(ApiKeys.DELETE_TOPICS, new DeleteTopicsHandler(topics, this::awaitDeleted, controlRequests))
                .add(ApiKeys.INIT_PRODUCER_ID, new InitProducerIdHandler(logs, producerIds, transactions))
                .add(ApiKeys.ADD_PARTITIONS_TO_TXN, (short) 0, (short) 5, transactionGate(ApiKeys.ADD_PARTITIONS_TO_TXN,
                        new io.capstan.broker.kafka.AddPartitionsToTxnHandler(transactions, logs.catalog())))
                .add(ApiKeys.ADD_OFFSETS_TO_TXN, (short) 0, (short) 4, transactionGate(ApiKeys.ADD_OFFSETS_TO_TXN,
                        new io.capstan.broker.kafka.AddOffsetsToTxnHandler(transactions)))
                .add(ApiKeys.END_TXN, (short) 0, (short) 5, transactionGate(ApiKeys.END_TXN, new io.capstan.broker.kafka.EndTxnHandler(transactions)))
                .add(ApiKeys.TXN_OFFSET_COMMIT, (short) 0, (short) 5, gate(ApiKeys.TXN_OFFSET_COMMIT,
                        new io.capstan.broker.kafka.TxnOffsetCommitHandler(groups, logs.catalog(), this::verifyInTransaction,
                                () -> current.get().transactions().version())))
                .add(ApiKeys.DESCRIBE_TRANSACTIONS, new io.capstan.broker.kafka.DescribeTransactionsHandler(transactions))
                .add(ApiKeys.LIST_TRANSACTIONS, new io.capstan.broker.kafka.ListTransactionsHandler(transactions))
                .add(ApiKeys.DESCRIBE_CONFIGS, new DescribeConfigsHandler(topics, brokerConfigs))
                .add(ApiKeys.INCREMENTAL_ALTER_CONFIGS, new IncrementalAlterConfigsHandler(topics, this::awaitApplied, brokerConfigs, current,
                        controlRequests))
                .add(ApiKeys.ALTER_CONFIGS, new AlterConfigsHandler(topics, this::awaitApplied, brokerConfigs, current, controlRequests))
                .add(ApiKeys.DELETE_RECORDS, new DeleteRecordsHandler(logs, replicas, controlRequests))
                .add(ApiKeys.DESCRIBE_LOG_DIRS, new DescribeLogDirsHandler(logs, config.dataDir()))
                .add(ApiKeys.CREATE_PARTITIONS, new CreatePartitionsHandler(topics, this::awaitApplied, config.limits().maxPartitions(),
                        view::aliveBrokerIds, controlRequests))
                .add(ApiKeys.DESCRIBE_CLUSTER, new DescribeClusterHandler(identity, membership))
                .add(ApiKeys.DESCRIBE_TOPIC_PARTITIONS, new DescribeTopicPartitionsHandler(membership, view))
                .add(ApiKeys.DESCRIBE_PRODUCERS, new DescribeProducersHandler(logs, replicas))
                .add(ApiKeys.WRITE_TXN_MARKERS, new io.capstan.broker.kafka.WriteTxnMarkersHandler(markerWriter))
                .add(ApiKeys.FIND_COORDINATOR, new FindCoordinatorHandler(identity, membership))
                .add(ApiKeys.JOIN_GROUP, gate(ApiKeys.JOIN_GROUP, new JoinGroupHandler(groups)))
                .add(ApiKeys.SYNC_GROUP, gate(ApiKeys.SYNC_GROUP, new SyncGroupHandler(groups)))
                .add(ApiKeys.HEARTBEAT, gate(ApiKeys.HEARTBEAT, new HeartbeatHandler(groups)))
                .add(ApiKeys.LEAVE_GROUP, gate(ApiKeys.LEAVE_GROUP, new LeaveGroupHandler(groups)))
                .add(ApiKeys.OFFSET_COMMIT, gate(ApiKeys.OFFSET_COMMIT, new OffsetCommitHandler(groups, logs)))
                .add(ApiKeys.OFFSET_FETCH, gate(ApiKeys.OFFSET_FETCH, new OffsetFetchHandler(groups, logs)))
                .add(ApiKeys.CONSUMER_GROUP_HEARTBEAT, (short) 0, (short) 1, gate(ApiKeys.CONSUMER_GROUP_HEARTBEAT,
                        new io.capstan.broker.kafka.ConsumerGroupHeartbeatHandler(groups)))
                .add(ApiKeys.CONSUMER_GROUP_DESCRIBE, (short) 0, (short) 1, gate(ApiKeys.CONSUMER_GROUP_DESCRIBE,
                        new io.capstan.broker.kafka.ConsumerGroupDescribeHandler(groups)))
                .add(ApiKeys.LIST_GROUPS, new ListGroupsHandler(groups))
                .add(ApiKeys.DESCRIBE_GROUPS, gate(ApiKeys.DESCRIBE_GROUPS, new DescribeGroupsHandler(groups)))
                .add(ApiKeys.DELETE_GROUPS, gate(ApiKeys.DELETE_GROUPS, new DeleteGroupsHandler(groups)))
                .add(ApiKeys.OFFSET_DELETE, gate(ApiKeys.OFFSET_DELETE, new OffsetDeleteHandler(groups)))
                .add(ApiKeys.SASL_HANDSHAKE, SaslOutOfPlace.HANDSHAKE)
                .add(ApiKeys.SASL_AUTHENTICATE, SaslOutOfPlace.AUTHENTICATE)
                .add(ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS, new DescribeUserScramCredentialsHandler(scram))
                .add(ApiKeys.ALTER_USER_SCRAM_CREDENTIALS, new AlterUserScramCredentialsHandler(scram))
                .add(ApiKeys.DESCRIBE_CLIENT_QUOTAS, new DescribeClientQuotasHandler(quotas, controlRequests))
                .add(ApiKeys.ALTER_CLIENT_QUOTAS, new AlterClientQuotasHandler(quotas, controlRequests))
                .add(ApiKeys.CREATE_ACLS, new CreateAclsHandler(acls))
                .add(ApiKeys.DESCRIBE_ACLS, new DescribeAclsHandler(acls))
                .add(ApiKeys.DELETE_ACLS, new DeleteAclsHandler(acls));
    }

    /** Until this broker's view has reached {@code revision} and its roles follow it, or the time is up. */
    /** As {@link #awaitApplied} for a topic this broker just deleted: its view leaves it out, and the broker acted on that. */
    private void awaitDeleted(String topic, long timeoutMs) {
        syncOnceSeen(timeoutMs, wait -> view.cache().awaitAbsent(io.capstan.cluster.metadata.TopicRecord.key(topic), wait));
    }

    private void awaitApplied(long revision, long timeoutMs) {
        syncOnceSeen(timeoutMs, wait -> view.cache().awaitRevision(revision, wait));
    }

    /**
     * Waits (within {@code timeoutMs}) until this broker's view shows a change it just wrote, then until its replica
     * manager has acted on it; if the view does not show it in time, the sync is only asked for.
     */
    private void syncOnceSeen(long timeoutMs, java.util.function.Predicate<java.time.Duration> seen) {
        long deadline = System.currentTimeMillis() + timeoutMs;
        if (timeoutMs > 0 && seen.test(java.time.Duration.ofMillis(timeoutMs))) {
            replicas.syncWithin(Math.max(1, deadline - System.currentTimeMillis()));
        } else {
            replicas.requestSync();
        }
    }

    private static io.capstan.broker.group.modern.ConsumerGroupSettings consumerGroupSettings(BrokerConfig.ConsumerGroups c) {
        List<io.capstan.broker.group.modern.PartitionAssignor> assignors = c.assignors().stream()
                .<io.capstan.broker.group.modern.PartitionAssignor>map(name -> name.equals(io.capstan.broker.group.modern.RangeAssignor.NAME)
                        ? new io.capstan.broker.group.modern.RangeAssignor() : new io.capstan.broker.group.modern.UniformAssignor())
                .toList();
        return new io.capstan.broker.group.modern.ConsumerGroupSettings(c.sessionTimeoutMs(), c.heartbeatIntervalMs(), assignors, c.maxSize());
    }

    /** The topics consumer-protocol groups subscribe to, as this broker's view of the cluster has them now. */
    private final class ViewTopics implements io.capstan.broker.group.modern.TopicImage {
        @Override
        public io.capstan.broker.group.modern.PartitionAssignor.Topic topic(String name) {
            io.capstan.cluster.metadata.TopicRecord t = view == null ? null : view.topic(name);
            return t == null ? null : new io.capstan.broker.group.modern.PartitionAssignor.Topic(
                    org.apache.kafka.common.Uuid.fromString(t.topicId()), name, t.partitions());
        }

        @Override
        public java.util.Collection<String> names() {
            return view == null ? List.of() : view.topics().keySet();
        }
    }

    /** Group requests are answered by the coordinator only (NOT_COORDINATOR elsewhere). */
    private io.capstan.broker.kafka.ApiHandler gate(ApiKeys api, io.capstan.broker.kafka.ApiHandler handler) {
        // authorization first, as Kafka: a caller without READ on the group learns nothing about its coordinator
        return GroupAccessGate.wrap(api, new CoordinatorGate(api, handler, groups::coordinating));
    }

    /** Transaction requests are answered by the transaction coordinator only (NOT_COORDINATOR elsewhere). */
    private io.capstan.broker.kafka.ApiHandler transactionGate(ApiKeys api, io.capstan.broker.kafka.ApiHandler handler) {
        return new CoordinatorGate(api, handler, transactions::coordinating);
    }

    private static String json(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    public int port() { return kafka.port(); }
    public int port(String listener) { return kafka.port(listener); }
    public ScramCredentialStore scramCredentials() { return scram; }
    public int adminPort() { return admin == null ? -1 : admin.port(); }
    public String bootstrap() { return config.advertisedHost() + ":" + kafka.port(); }
    public LogManager logs() { return logs; }
    public GroupCoordinator groups() { return groups; }
    public io.capstan.broker.txn.TransactionCoordinator transactions() { return transactions; }
    public ClientQuotaStore quotas() { return quotas; }
    /** Long-poll fetches parked now, counted per shard they wait on (what capstan_fetch_parked reports). */
    public int parkedFetches() { return purgatory.parked(); }
    public BrokerMetrics metrics() { return metrics; }
    public io.capstan.broker.trace.RequestTracer tracer() { return tracer; }
    public boolean ready() { return ready; }
    /** False once a fatal error stopped this broker from accepting writes. */
    public boolean live() { return live; }
    /** This broker's part in replication. */
    public ReplicaManager replicas() { return replicas; }

    /** True while the lease has run out unrenewed: the store may have moved leadership without this broker hearing of it. */
    private boolean leaseLapsed() {
        BrokerLease held = lease;
        return held != null && !held.held();
    }

    @Override
    public void close() {
        ready = false;
        BrokerLease held = lease;
        if (held != null) {
            if (!config.replication().embedded()) {
                replicas.moveLeadershipAway(); // a cluster of one has nobody to hand its shards to
                replicas.stopFollowing();
            }
            held.release();
        }
        kafka.close();
        tracer.close(); // what is queued is sent, for at most 10 s
        controlRequests.shutdownNow();
        if (admin != null) {
            admin.close();
        }
        scram.close();
        quotas.close();
        acls.close();
        replicas.close();
        view.close();
        view.cache().close();
        store.close();
        groups.close();
        logs.close();
        log.info("broker {} stopped", config.nodeId());
    }
}
