package io.capstan.broker;

import io.capstan.broker.kafka.GroupAccessGate;
import io.capstan.broker.kafka.DescribeClientQuotasHandler;
import io.capstan.broker.kafka.DeleteAclsHandler;
import io.capstan.broker.kafka.DescribeAclsHandler;
import io.capstan.broker.kafka.CreateAclsHandler;
import io.capstan.broker.replica.InterBrokerTransport;
import io.capstan.broker.security.ScramCredentialStore;
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
import io.capstan.broker.kafka.DescribeConfigsHandler;
import io.capstan.broker.kafka.FetchHandler;
import io.capstan.broker.kafka.FetchPurgatory;
import io.capstan.broker.kafka.InitProducerIdHandler;
import io.capstan.broker.kafka.ListOffsetsHandler;
import io.capstan.broker.kafka.MetadataHandler;
import io.capstan.broker.kafka.ProduceHandler;
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
import io.capstan.broker.replica.Replication;
import io.capstan.broker.replica.SingleReplica;
import io.capstan.cluster.controller.BrokerLease;
import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataCache;
import io.capstan.cluster.view.ClusterView;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.broker.net.KafkaServer;
import io.capstan.broker.net.ListenerSecurities;
import io.capstan.broker.kafka.SaslOutOfPlace;
import io.capstan.broker.kafka.DescribeUserScramCredentialsHandler;
import io.capstan.broker.kafka.AlterUserScramCredentialsHandler;
import java.util.Map;
import org.apache.kafka.common.protocol.ApiKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Composition root of one broker: log, Kafka listener, admin HTTP. Start order is the order of the fields. */
public final class Broker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Broker.class);

    private final BrokerConfig config;
    private final BrokerMetrics metrics = new BrokerMetrics();
    private final FetchPurgatory purgatory = new FetchPurgatory();
    private final LogManager logs;
    private final GroupCoordinator groups;
    private final KafkaServer kafka;
    private final AdminServer admin;
    private final Cluster cluster;
    private volatile Replication replication = new SingleReplica();
    private volatile boolean ready;
    private String rack;
    private final MetadataStore ownSecurityStore;
    private final MetadataCache ownSecurityCache;
    /** How long a broker waits for the metadata store's first listing before giving up on starting. */
    private static final java.time.Duration METADATA_SYNC_TIMEOUT = java.time.Duration.ofMinutes(2);
    private final ScramCredentialStore scram;
    private final AclStore acls;
    private final Authorizer authorizer;

    /** What a broker in a cluster has beyond a single broker; null when alone. */
    private record Cluster(MetadataStore store, ClusterView view, ReplicaManager replicas, ClusterTopics topics,
                           Membership membership, BrokerLease[] lease) {
        void close() {
            replicas.close();
            view.close();
            view.cache().close();
            store.close();
        }
    }

    private void closeSecurityStore() {
        if (ownSecurityCache != null) {
            ownSecurityCache.close();
        }
        if (ownSecurityStore != null) {
            ownSecurityStore.close();
        }
    }

    public Broker(BrokerConfig config, Map<String, String> settings) {
        this.config = config;
        // the admin port comes first so that liveness holds while a large log recovers; /readyz says 503 until then
        this.admin = config.adminPort() < 0 ? null : new AdminServer(config.host(), config.adminPort(), metrics.registry(), () -> ready,
                config.adminTokenFile(), config.security().secured());
        try {
            this.logs = new LogManager(config, shard -> {
                replication.committed(shard);
                purgatory.committed(shard);
            }, metrics);
        } catch (RuntimeException e) {
            closeQuietly(admin);
            throw e;
        }
        this.groups = new GroupCoordinator(logs, new GroupSettings(config.groupMinSessionTimeoutMs(),
                config.groupMaxSessionTimeoutMs(), config.groupInitialRebalanceDelayMs(), config.offsetsCompactionBytes()),
                config.replication().clustered());
        metrics.bindLog(logs);
        metrics.bindGroups(groups);
        metrics.bindFetchPurgatory(purgatory);
        BrokerIdentity identity = new BrokerIdentity(config.nodeId(), config.clusterId(), config.security().listeners(),
                config.security().interBrokerListener());
        this.cluster = config.replication().clustered() ? joinCluster(identity) : null;
        // SCRAM users live in the cluster's metadata store; a broker alone keeps them in a store under its data directory
        this.ownSecurityStore = cluster != null ? null
                : new LocalFileMetadataStore(config.dataDir().resolve("capstan-metadata"), 500);
        this.ownSecurityCache = cluster != null ? null : MetadataCache.open(ownSecurityStore, METADATA_SYNC_TIMEOUT);
        MetadataCache securityCache = cluster != null ? cluster.view().cache() : ownSecurityCache;
        this.scram = new ScramCredentialStore(securityCache);
        this.acls = new AclStore(securityCache);
        this.authorizer = config.security().authorizerEnabled()
                ? new AclAuthorizer(acls, config.security().superUsers(), config.security().allowEveryoneIfNoAclFound())
                : Authorizer.ALLOW_ALL;
        try {
            this.kafka = new KafkaServer(ListenerSecurities.of(config.security(), scram), config.socketRequestMaxBytes(),
                    apis(identity, settings), metrics, logs.pendingWrites(), authorizer);
        } catch (RuntimeException e) {
            scram.close();
            acls.close();
            closeSecurityStore();
            if (cluster != null) {
                cluster.close();
            }
            groups.close();
            logs.close();
            closeQuietly(admin);
            throw e;
        }
        config.security().listeners().forEach(l -> identity.boundTo(l.name(), kafka.port(l.name())));
        if (cluster != null) {
            startClusterMembership(identity);
        }
        ready = true;
        log.info("broker {} ready: kafka {}:{}, admin port {}, data {}", config.nodeId(), config.advertisedHost(),
                identity.port(), admin == null ? "disabled" : admin.port(), config.dataDir().toAbsolutePath());
    }

    private Cluster joinCluster(BrokerIdentity identity) {
        BrokerConfig.Replication settings = config.replication();
        rack = settings.rack();
        MetadataStore store;
        if (settings.metadataStore() == BrokerConfig.MetadataStoreKind.KUBERNETES) {
            io.fabric8.kubernetes.client.KubernetesClient kube = new io.fabric8.kubernetes.client.KubernetesClientBuilder().build();
            if (!settings.rackNodeLabel().isEmpty()) {
                rack = io.capstan.cluster.metadata.NodeRack.resolve(kube, System.getenv("NODE_NAME"), settings.rackNodeLabel());
                log.info("broker {}: rack {} (label {} of node {})", config.nodeId(), rack, settings.rackNodeLabel(), System.getenv("NODE_NAME"));
            }
            store = new io.capstan.cluster.metadata.KubernetesMetadataStore(kube, settings.metadataNamespace(), settings.metadataName());
        } else {
            store = new LocalFileMetadataStore(settings.metadataDir(), 100);
        }
        ClusterView view = new ClusterView(MetadataCache.open(store, METADATA_SYNC_TIMEOUT), System::currentTimeMillis);
        ReplicaManager replicas = new ReplicaManager(config.nodeId(), logs, view, settings, purgatory,
                InterBrokerTransport.of(config.security()));
        this.replication = replicas;
        ClusterTopics topics = new ClusterTopics(view);
        TopicPartition offsetsShard = new TopicPartition(OffsetStore.TOPIC, 0);
        replicas.onLeadership(offsetsShard, new ReplicaManager.LeadershipListener() {
            @Override
            public void leading(Shard shard) {
                groups.activate(shard, (s, lastOffset) -> replicas.awaitReplicated(s, lastOffset, settings.minInsyncReplicas(), 30_000));
                log.info("broker {}: coordinating consumer groups (leader of {})", config.nodeId(), offsetsShard);
            }

            @Override
            public void resigned() {
                groups.deactivate();
                log.info("broker {}: no longer coordinating consumer groups", config.nodeId());
            }
        });
        Runnable createOffsetsShard = () -> {
            try {
                topics.create(OffsetStore.TOPIC, org.apache.kafka.common.Uuid.randomUuid().toString(), 1, Math.min(settings.defaultReplicationFactor(), Math.max(1, topics.liveBrokers(settings.defaultReplicationFactor()))),
                        Map.of("retention.ms", "-1"));
                replicas.requestSync();
            } catch (ConflictException exists) {
                replicas.requestSync();
            } catch (RuntimeException e) {
                log.warn("cannot create {} yet: {}", OffsetStore.TOPIC, e.toString());
            }
        };
        return new Cluster(store, view, replicas, topics, new ClusterMembership(view, identity, offsetsShard, createOffsetsShard), new BrokerLease[1]);
    }

    /** Once the listener is bound: register (so others can reach this broker), then take the roles the metadata gives. */
    private void startClusterMembership(BrokerIdentity identity) {
        BrokerConfig.Replication settings = config.replication();
        BrokerLease lease = new BrokerLease(cluster.store(), new BrokerRegistration(config.nodeId(), identity.host(), identity.port(),
                rack, 0, admin == null ? 0 : admin.port(), identity.endpoints()), settings.leaseMs(), System::currentTimeMillis);
        try {
            long registered = lease.start();
            if (!cluster.view().cache().awaitRevision(registered, METADATA_SYNC_TIMEOUT)) {
                throw new IllegalStateException("broker " + config.nodeId() + " registered but its metadata watch did not show it within "
                        + METADATA_SYNC_TIMEOUT + "; check the metadata store");
            }
        } catch (ConflictException e) {
            throw new IllegalStateException("cannot register broker " + config.nodeId() + " in " + settings.metadataDir()
                    + ": " + e.getMessage() + "; is another broker running with node.id " + config.nodeId() + "?", e);
        }
        cluster.lease()[0] = lease;
        cluster.replicas().start();
        cluster.replicas().syncNow();
        if (admin != null) {
            admin.route("/replicas", () -> new AdminServer.Reply(200, "application/json",
                    new String(io.capstan.cluster.metadata.MetadataCodec.encode(cluster.replicas().progress()), java.nio.charset.StandardCharsets.UTF_8)));
            admin.action("/controlled-shutdown", () -> {
                int moved = cluster.replicas().moveLeadershipAway();
                return new AdminServer.Reply(200, "text/plain", "handed " + moved + " shard(s) to other brokers; stop me now\n");
            });
            admin.route("/restart-safety", () -> {
                var verdict = cluster.replicas().restartSafety();
                String reasons = String.join(",", verdict.reasons().stream().map(Broker::json).toList());
                return new AdminServer.Reply(verdict.safe() ? 200 : 409, "application/json",
                        "{\"broker\":" + config.nodeId() + ",\"safe\":" + verdict.safe() + ",\"reasons\":[" + reasons + "]}\n");
            });
        }
    }

    private ApiRegistry apis(BrokerIdentity identity, Map<String, String> settings) {
        ApiRegistry apis = new ApiRegistry();
        Membership membership = cluster == null ? Membership.single(identity) : cluster.membership();
        int nodeId = config.nodeId();
        java.util.function.LongUnaryOperator producerIds = cluster == null ? java.util.function.LongUnaryOperator.identity()
                : local -> local * 4096 + nodeId;
        Runnable metadataChanged = cluster == null ? () -> { } : cluster.replicas()::requestSync;
        return apis.add(ApiKeys.API_VERSIONS, new ApiVersionsHandler(apis))
                .add(ApiKeys.METADATA, new MetadataHandler(identity, logs, config.autoCreateTopics(), config.defaultPartitions(),
                        membership, cluster == null ? null : cluster.view()))
                .add(ApiKeys.PRODUCE, new ProduceHandler(logs, config.messageMaxBytes(), replication, config.replication().minInsyncReplicas()))
                .add(ApiKeys.FETCH, new FetchHandler(logs, purgatory, replication))
                .add(ApiKeys.LIST_OFFSETS, new ListOffsetsHandler(logs, replication))
                .add(ApiKeys.OFFSET_FOR_LEADER_EPOCH, new OffsetForLeaderEpochHandler(logs, replication))
                .add(ApiKeys.ELECT_LEADERS, new ElectLeadersHandler(logs, cluster == null ? null : cluster.view()))
                .add(ApiKeys.ALTER_PARTITION_REASSIGNMENTS, new AlterPartitionReassignmentsHandler(
                        cluster == null ? null : new Reassignments(cluster.store(), System::currentTimeMillis), metadataChanged))
                .add(ApiKeys.LIST_PARTITION_REASSIGNMENTS, new ListPartitionReassignmentsHandler(
                        cluster == null ? null : new Reassignments(cluster.store(), System::currentTimeMillis)))
                .add(ApiKeys.CREATE_TOPICS, new CreateTopicsHandler(logs, config.defaultPartitions(),
                        cluster == null ? null : cluster.topics(), config.replication().defaultReplicationFactor(), metadataChanged))
                .add(ApiKeys.DELETE_TOPICS, new DeleteTopicsHandler(logs, cluster == null ? null : cluster.topics(), metadataChanged))
                .add(ApiKeys.INIT_PRODUCER_ID, new InitProducerIdHandler(logs, producerIds))
                .add(ApiKeys.DESCRIBE_CONFIGS, new DescribeConfigsHandler(logs, config, settings))
                .add(ApiKeys.DESCRIBE_CLUSTER, new DescribeClusterHandler(identity, membership))
                .add(ApiKeys.FIND_COORDINATOR, new FindCoordinatorHandler(identity, membership))
                .add(ApiKeys.JOIN_GROUP, gate(ApiKeys.JOIN_GROUP, new JoinGroupHandler(groups)))
                .add(ApiKeys.SYNC_GROUP, gate(ApiKeys.SYNC_GROUP, new SyncGroupHandler(groups)))
                .add(ApiKeys.HEARTBEAT, gate(ApiKeys.HEARTBEAT, new HeartbeatHandler(groups)))
                .add(ApiKeys.LEAVE_GROUP, gate(ApiKeys.LEAVE_GROUP, new LeaveGroupHandler(groups)))
                .add(ApiKeys.OFFSET_COMMIT, gate(ApiKeys.OFFSET_COMMIT, new OffsetCommitHandler(groups, logs)))
                .add(ApiKeys.OFFSET_FETCH, gate(ApiKeys.OFFSET_FETCH, new OffsetFetchHandler(groups, logs)))
                .add(ApiKeys.LIST_GROUPS, new ListGroupsHandler(groups))
                .add(ApiKeys.DESCRIBE_GROUPS, gate(ApiKeys.DESCRIBE_GROUPS, new DescribeGroupsHandler(groups)))
                .add(ApiKeys.DELETE_GROUPS, gate(ApiKeys.DELETE_GROUPS, new DeleteGroupsHandler(groups)))
                .add(ApiKeys.SASL_HANDSHAKE, SaslOutOfPlace.HANDSHAKE)
                .add(ApiKeys.SASL_AUTHENTICATE, SaslOutOfPlace.AUTHENTICATE)
                .add(ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS, new DescribeUserScramCredentialsHandler(scram))
                .add(ApiKeys.ALTER_USER_SCRAM_CREDENTIALS, new AlterUserScramCredentialsHandler(scram))
                .add(ApiKeys.DESCRIBE_CLIENT_QUOTAS, new DescribeClientQuotasHandler())
                .add(ApiKeys.CREATE_ACLS, new CreateAclsHandler(acls))
                .add(ApiKeys.DESCRIBE_ACLS, new DescribeAclsHandler(acls))
                .add(ApiKeys.DELETE_ACLS, new DeleteAclsHandler(acls));
    }

    /** In a cluster, group requests are answered by the coordinator only (NOT_COORDINATOR elsewhere). */
    private io.capstan.broker.kafka.ApiHandler gate(ApiKeys api, io.capstan.broker.kafka.ApiHandler handler) {
        // authorization first, as Kafka: a caller without READ on the group learns nothing about its coordinator
        return GroupAccessGate.wrap(api, cluster == null ? handler : new CoordinatorGate(api, handler, groups::coordinating));
    }

    private static String json(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static void closeQuietly(AdminServer admin) {
        if (admin != null) {
            admin.close();
        }
    }

    public int port() { return kafka.port(); }
    public int port(String listener) { return kafka.port(listener); }
    public ScramCredentialStore scramCredentials() { return scram; }
    public int adminPort() { return admin == null ? -1 : admin.port(); }
    public String bootstrap() { return config.advertisedHost() + ":" + kafka.port(); }
    public LogManager logs() { return logs; }
    public GroupCoordinator groups() { return groups; }
    public BrokerMetrics metrics() { return metrics; }
    public boolean ready() { return ready; }
    /** This broker's replication (null when it runs alone). */
    public ReplicaManager replicas() { return cluster == null ? null : cluster.replicas(); }

    @Override
    public void close() {
        ready = false;
        if (cluster != null && cluster.lease()[0] != null) {
            cluster.replicas().moveLeadershipAway();
            cluster.lease()[0].release();
        }
        kafka.close();
        if (admin != null) {
            admin.close();
        }
        scram.close();
        acls.close();
        if (cluster != null) {
            cluster.close();
        }
        closeSecurityStore();
        groups.close();
        logs.close();
        log.info("broker {} stopped", config.nodeId());
    }
}
