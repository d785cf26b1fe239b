package io.capstan.broker;

import io.capstan.broker.admin.AdminServer;
import io.capstan.broker.admin.BrokerMetrics;
import io.capstan.broker.config.BrokerConfig;
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
import io.capstan.broker.net.KafkaServer;
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
    private volatile boolean ready;

    public Broker(BrokerConfig config, Map<String, String> settings) {
        this.config = config;
        // the admin port comes first so that liveness holds while a large log recovers; /readyz says 503 until then
        this.admin = config.adminPort() < 0 ? null : new AdminServer(config.host(), config.adminPort(), metrics.registry(), () -> ready);
        try {
            this.logs = new LogManager(config, purgatory, metrics);
        } catch (RuntimeException e) {
            closeQuietly(admin);
            throw e;
        }
        this.groups = new GroupCoordinator(logs, new GroupSettings(config.groupMinSessionTimeoutMs(),
                config.groupMaxSessionTimeoutMs(), config.groupInitialRebalanceDelayMs(), config.offsetsCompactionBytes()));
        metrics.bindLog(logs);
        metrics.bindGroups(groups);
        metrics.bindFetchPurgatory(purgatory);
        BrokerIdentity identity = new BrokerIdentity(config.nodeId(), config.clusterId(), config.advertisedHost(), config.advertisedPort());
        try {
            this.kafka = new KafkaServer(config.host(), config.port(), config.socketRequestMaxBytes(), apis(identity, settings), metrics, logs.pendingWrites());
        } catch (RuntimeException e) {
            groups.close();
            logs.close();
            closeQuietly(admin);
            throw e;
        }
        if (config.advertisedPort() == 0) {
            identity.boundTo(kafka.port());
        }
        ready = true;
        log.info("broker {} ready: kafka {}:{}, admin port {}, data {}", config.nodeId(), config.advertisedHost(),
                identity.port(), admin == null ? "disabled" : admin.port(), config.dataDir().toAbsolutePath());
    }

    private ApiRegistry apis(BrokerIdentity identity, Map<String, String> settings) {
        ApiRegistry apis = new ApiRegistry();
        return apis.add(ApiKeys.API_VERSIONS, new ApiVersionsHandler(apis))
                .add(ApiKeys.METADATA, new MetadataHandler(identity, logs, config.autoCreateTopics(), config.defaultPartitions()))
                .add(ApiKeys.PRODUCE, new ProduceHandler(logs, config.messageMaxBytes()))
                .add(ApiKeys.FETCH, new FetchHandler(logs, purgatory))
                .add(ApiKeys.LIST_OFFSETS, new ListOffsetsHandler(logs))
                .add(ApiKeys.CREATE_TOPICS, new CreateTopicsHandler(logs, config.defaultPartitions()))
                .add(ApiKeys.DELETE_TOPICS, new DeleteTopicsHandler(logs))
                .add(ApiKeys.INIT_PRODUCER_ID, new InitProducerIdHandler(logs))
                .add(ApiKeys.DESCRIBE_CONFIGS, new DescribeConfigsHandler(logs, config, settings))
                .add(ApiKeys.DESCRIBE_CLUSTER, new DescribeClusterHandler(identity))
                .add(ApiKeys.FIND_COORDINATOR, new FindCoordinatorHandler(identity))
                .add(ApiKeys.JOIN_GROUP, new JoinGroupHandler(groups))
                .add(ApiKeys.SYNC_GROUP, new SyncGroupHandler(groups))
                .add(ApiKeys.HEARTBEAT, new HeartbeatHandler(groups))
                .add(ApiKeys.LEAVE_GROUP, new LeaveGroupHandler(groups))
                .add(ApiKeys.OFFSET_COMMIT, new OffsetCommitHandler(groups, logs))
                .add(ApiKeys.OFFSET_FETCH, new OffsetFetchHandler(groups, logs))
                .add(ApiKeys.LIST_GROUPS, new ListGroupsHandler(groups))
                .add(ApiKeys.DESCRIBE_GROUPS, new DescribeGroupsHandler(groups))
                .add(ApiKeys.DELETE_GROUPS, new DeleteGroupsHandler(groups));
    }

    private static void closeQuietly(AdminServer admin) {
        if (admin != null) {
            admin.close();
        }
    }

    public int port() { return kafka.port(); }
    public int adminPort() { return admin == null ? -1 : admin.port(); }
    public String bootstrap() { return config.advertisedHost() + ":" + kafka.port(); }
    public LogManager logs() { return logs; }
    public GroupCoordinator groups() { return groups; }
    public BrokerMetrics metrics() { return metrics; }
    public boolean ready() { return ready; }

    @Override
    public void close() {
        ready = false;
        kafka.close();
        if (admin != null) {
            admin.close();
        }
        groups.close();
        logs.close();
        log.info("broker {} stopped", config.nodeId());
    }
}
