package io.capstan.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Validated broker settings. Every key, its default and its meaning are listed in {@link #KEYS};
 * docs/configuration.md is the user-facing copy of that table.
 */
public record BrokerConfig(
        int nodeId,
        String clusterId,
        String host,
        int port,
        String advertisedHost,
        int advertisedPort,
        int adminPort,
        Path dataDir,
        FlushPolicy flushPolicy,
        long flushIntervalMs,
        int socketRequestMaxBytes,
        int messageMaxBytes,
        int defaultPartitions,
        boolean autoCreateTopics,
        long retentionMs,
        long retentionBytes,
        long retentionCheckIntervalMs,
        long tailCacheBytesPerShard,
        long tailCacheMaxBytes,
        long diskMinFreeBytes,
        int groupCommitMaxBatches,
        long rocksdbBlockCacheBytes,
        long rocksdbWriteBufferBytes,
        int groupInitialRebalanceDelayMs,
        int groupMinSessionTimeoutMs,
        int groupMaxSessionTimeoutMs,
        long offsetsCompactionBytes,
        boolean rocksdbBlobFiles,
        boolean logDataFiles,
        long logDataFileBytes,
        boolean logPreallocate,
        double logDataFileReclaimRatio,
        long logSegmentDeleteDelayMs,
        long maxPendingBytes,
        Limits limits,
        TimestampBounds timestamps,
        Cleaner cleaner,
        Transactions transactions,
        ConsumerGroups consumerGroups,
        Replication replication,
        Security security,
        Path adminTokenFile,
        Tracing tracing) {

    public enum FlushPolicy { ALWAYS, INTERVAL }

    /**
     * Request tracing (decision 0032): where spans go over OTLP/HTTP (empty: tracing off), the share of requests traced
     * at random, and the duration from which a request is always traced. A request whose records carry a sampled W3C
     * traceparent is traced too.
     */
    public record Tracing(String otlpEndpoint, double samplingRatio, long slowRequestMs) {
        public boolean enabled() {
            return !otlpEndpoint.isEmpty();
        }
    }

    /**
     * What one client may hold of the broker, with Kafka's names and defaults: connections in all and per address,
     * how long a silent connection stays open, the most bytes one fetch answer carries, and the window client byte-rate
     * quotas are measured over (quota.window.num samples of quota.window.size.seconds); and, Capstan's own, the most
     * partitions the whole cluster may have (max.partitions: each is metadata every broker and the controller hold).
     */
    public record Limits(int maxConnections, int maxConnectionsPerIp, long connectionsMaxIdleMs, int fetchMaxBytes,
                         int quotaWindowNum, int quotaWindowSizeSeconds, int maxPartitions, int fetchSessionSlots) {}

    /**
     * How far a produced batch's timestamps may be from the broker's clock (Kafka's log.message.timestamp.*.max.ms,
     * KIP-937): a timestamp far in the future would hold back time retention of its shard until that time comes.
     */
    public record TimestampBounds(long beforeMaxMs, long afterMaxMs) {}

    /**
     * The log cleaner that compacts topics with cleanup.policy=compact, with Kafka's names and defaults: whether it runs,
     * the memory of its key-to-offset map, its read rate, its pause when nothing is dirty enough, and the defaults of
     * the per-topic compaction settings.
     */
    /**
     * The transaction coordinator, with Kafka's names and defaults: the longest transaction.timeout.ms a producer may ask
     * for, and how often open transactions are checked against their timeout (and aborted past it).
     */
    public record Transactions(int maxTimeoutMs, long abortCheckIntervalMs, int version, int addPartitionsRetryBackoffMs,
                               int addPartitionsRetryBackoffMaxMs) {}

    /**
     * Groups under the consumer protocol (KIP-848), with Kafka's names and defaults: the session the coordinator grants
     * (members no longer choose it), the heartbeat interval it tells members, its assignors (the first is the default;
     * Kafka's class names are accepted for its two) and the most members of one group.
     */
    public record ConsumerGroups(int sessionTimeoutMs, int heartbeatIntervalMs, List<String> assignors, int maxSize) {
        public static final List<String> KNOWN_ASSIGNORS = List.of("uniform", "range");

        public ConsumerGroups {
            assignors = List.copyOf(assignors);
        }
    }

    public record Cleaner(boolean enable, long dedupeBufferBytes, double ioMaxBytesPerSecond, long backoffMs,
                          String cleanupPolicy, long deleteRetentionMs, long minCompactionLagMs, long maxCompactionLagMs,
                          double minCleanableRatio) {}

    /**
     * Cluster settings. Every broker is a member of a cluster: it registers in the metadata store, takes the roles the
     * cluster metadata gives it and replicates. Without a shared store a broker is a cluster of one over a store
     * embedded in its data directory.
     */
    public record Replication(MetadataStoreKind metadataStore, Path metadataDir, String metadataNamespace, String metadataName,
                              String metadataKubernetesKind, String rack, String rackNodeLabel, long leaseMs, long heartbeatMs, long lagMaxMs, int minInsyncReplicas,
                              int defaultReplicationFactor, int fetchMaxWaitMs, int fetchMaxBytes, long leaderThrottledRate,
                              long followerThrottledRate) {
        /** A cluster of one: the store lives in this broker's data directory and nobody else reads it. */
        public boolean embedded() {
            return metadataStore == MetadataStoreKind.EMBEDDED;
        }
    }

    /**
     * Where the cluster metadata lives: in this broker's data directory (a cluster of one), a directory shared by the
     * brokers of one machine, or the Kubernetes API server.
     */
    public enum MetadataStoreKind { EMBEDDED, FILE, KUBERNETES }

    /** The embedded store's directory inside data.dir (where a broker alone has always kept its users and ACLs). */
    public static final String EMBEDDED_METADATA_DIR = "capstan-metadata";

    /** One documented setting: key, default, description. */
    public record Key(String name, String defaultValue, String description) {}

    public static final List<Key> KEYS = List.of(
            new Key("node.id", "0", "Broker id advertised in metadata."),
            new Key("cluster.id", "capstan-local", "Cluster id returned to clients."),
            new Key("listener.host", "127.0.0.1", "Address of the single PLAINTEXT listener used when listeners is empty (and of the admin port)."),
            new Key("listener.port", "9092", "Port of that listener (0 picks a free port)."),
            new Key("advertised.host", "", "Host clients are told to connect to (default: listener.host); with listeners set, use advertised.listeners."),
            new Key("advertised.port", "0", "Port clients are told to connect to (default: the bound port)."),
            new Key("listeners", "", "Kafka listeners NAME://host:port, comma-separated (e.g. SASL_SSL://0.0.0.0:9093,REPLICATION://0.0.0.0:9094); empty: PLAINTEXT://listener.host:listener.port."),
            new Key("advertised.listeners", "", "Addresses clients are told for each listener, NAME://host:port (default: the bound address)."),
            new Key("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
                    "Security protocol of each listener name: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."),
            new Key("inter.broker.listener.name", "", "Listener followers fetch from their leaders over (default: the first listener)."),
            new Key("ssl.keystore.type", "PKCS12", "PKCS12, JKS or PEM (a file with the private key and certificate chain). Per listener: listener.name.<name>.ssl.*."),
            new Key("ssl.keystore.location", "", "The broker's key and certificate; reloaded when the file changes."),
            new Key("ssl.keystore.password", "", "Password of the key store (PKCS12, JKS)."),
            new Key("ssl.key.password", "", "Password of the private key (default: ssl.keystore.password; PEM: of an encrypted key)."),
            new Key("ssl.truststore.type", "PKCS12", "PKCS12, JKS or PEM (CA certificates)."),
            new Key("ssl.truststore.location", "", "CA certificates that sign client certificates (and other brokers'); reloaded when the file changes."),
            new Key("ssl.truststore.password", "", "Password of the trust store (PKCS12, JKS)."),
            new Key("ssl.client.auth", "none", "required: clients must present a certificate signed by the trust store (mTLS); requested: used when given; none."),
            new Key("ssl.enabled.protocols", "TLSv1.3,TLSv1.2", "TLS versions accepted."),
            new Key("ssl.cipher.suites", "", "Cipher suites accepted (default: the TLS engine's secure defaults)."),
            new Key("ssl.principal.mapping.rules", "DEFAULT", "Kafka's rules mapping a client certificate's subject to a principal name (DEFAULT: the whole distinguished name)."),
            new Key("ssl.endpoint.identification.algorithm", "https", "https: a follower checks that the leader's certificate names the host it connects to; empty: no check."),
            new Key("sasl.enabled.mechanisms", "SCRAM-SHA-512,SCRAM-SHA-256", "SASL mechanisms offered on SASL listeners: SCRAM-SHA-256, SCRAM-SHA-512, PLAIN, OAUTHBEARER."),
            new Key("sasl.oauthbearer.jwks.endpoint.url", "", "For OAUTHBEARER: the issuer's public keys (JWKS) as a file: URL (re-read when it changes) or an https:// URL."),
            new Key("sasl.oauthbearer.expected.issuer", "", "For OAUTHBEARER: the iss a token must carry (empty: not checked)."),
            new Key("sasl.oauthbearer.expected.audience", "", "For OAUTHBEARER: audiences, one of which a token's aud must name (empty: not checked)."),
            new Key("sasl.oauthbearer.sub.claim.name", "sub", "For OAUTHBEARER: the claim that names the principal (User:<value>)."),
            new Key("sasl.oauthbearer.scope.claim.name", "scope", "For OAUTHBEARER: the claim holding the token's scopes."),
            new Key("sasl.oauthbearer.clock.skew.seconds", "30", "For OAUTHBEARER: clock difference tolerated on exp and nbf."),
            new Key("sasl.plain.credentials.file", "", "For SASL PLAIN: a properties file of user=password lines (tests and simple setups; prefer SCRAM)."),
            new Key("sasl.mechanism.inter.broker.protocol", "SCRAM-SHA-512", "Mechanism a follower uses when the inter-broker listener is a SASL listener."),
            new Key("inter.broker.sasl.username", "", "User a follower authenticates as on a SASL inter-broker listener (needs ClusterAction)."),
            new Key("inter.broker.sasl.password", "", "Its password."),
            new Key("connections.max.reauth.ms", "0", "Longest SASL session; clients re-authenticate before it ends (KIP-368), or are disconnected. 0: no limit."),
            new Key("connection.failed.authentication.delay.ms", "100", "How long a failed authentication is held before the answer, to slow down guessing."),
            new Key("sasl.server.max.receive.size", "524288", "Largest frame accepted before a SASL client has authenticated."),
            new Key("super.users", "", "Principals allowed everything, separated by ';' (e.g. User:admin;User:CN=broker-0)."),
            new Key("authorizer.class.name", "", "capstan (or Kafka's StandardAuthorizer / AclAuthorizer class name, mapped to it): enforce Kafka ACLs kept in the metadata store; empty: no authorization."),
            new Key("allow.everyone.if.no.acl.found", "false", "With an authorizer: allow an operation on a resource that has no ACL at all."),
            new Key("admin.port", "9644", "HTTP port for /metrics, /healthz, /readyz (0 picks a free port, -1 disables)."),
            new Key("admin.token.file", "", "File holding the bearer token that admin-port actions (POST /controlled-shutdown) need; without it they are refused once any listener is secured. Reads (/metrics, /healthz, /readyz, /restart-safety) need none."),
            new Key("data.dir", "./data", "Directory of the RocksDB log. One broker per directory."),
            new Key("log.flush.policy", "always", "always: fsync the WAL before acknowledging a produce (durable);"
                    + " interval: acknowledge after the write and fsync every log.flush.interval.ms."),
            new Key("log.flush.interval.ms", "100", "WAL fsync period when log.flush.policy=interval."),
            new Key("socket.request.max.bytes", "104857600", "Largest request frame accepted; larger frames close the connection before any allocation."),
            new Key("message.max.bytes", "1048588", "Largest record batch accepted (MESSAGE_TOO_LARGE above)."),
            new Key("num.partitions", "1", "Shards of a topic created without a count."),
            new Key("auto.create.topics.enable", "false", "Create topics on first metadata request. Off by default: a typo should not create a topic."),
            new Key("retention.ms", "604800000", "Default time retention (-1: unlimited). Per topic: config retention.ms."),
            new Key("retention.bytes", "-1", "Default size retention per shard (-1: unlimited). Per topic: config retention.bytes."),
            new Key("log.retention.check.interval.ms", "300000", "How often retention runs."),
            new Key("log.cleanup.policy", "delete", "Default cleanup.policy of topics: delete (retention), compact (the latest record of each key is kept) or compact,delete."),
            new Key("log.cleaner.enable", "true", "Run the log cleaner, which compacts topics with cleanup.policy=compact."),
            new Key("log.cleaner.dedupe.buffer.size", "134217728", "Most memory of the cleaner's key-to-offset map (24 bytes a key); a dirty section with more keys is compacted in several passes."),
            new Key("log.cleaner.io.max.bytes.per.second", "1.7976931348623157E308", "Most bytes a second the cleaner reads and writes, compacting shards or reclaiming data files (default: unthrottled)."),
            new Key("log.cleaner.backoff.ms", "15000", "How long the cleaner sleeps when no shard is dirty enough to compact."),
            new Key("log.cleaner.delete.retention.ms", "86400000", "Default delete.retention.ms: how long a tombstone stays after the cleaner first passed it."),
            new Key("log.cleaner.min.compaction.lag.ms", "0", "Default min.compaction.lag.ms: a record younger than this is never compacted."),
            new Key("log.cleaner.max.compaction.lag.ms", "9223372036854775807", "Default max.compaction.lag.ms: a record older than this is compacted whatever the dirty ratio."),
            new Key("log.cleaner.min.cleanable.ratio", "0.5", "Default min.cleanable.dirty.ratio: the share of a shard's bytes not yet compacted above which the cleaner compacts it."),
            new Key("tail.cache.bytes.per.shard", "4194304", "Recent batches kept in memory per shard for caught-up readers."),
            new Key("tail.cache.max.bytes", "-1", "Most memory the tail caches of all shards take together, outside the heap for produced batches; each shard gets its share (at most tail.cache.bytes.per.shard). -1: a quarter of the broker's maximum heap."),
            new Key("disk.min.free.bytes", "67108864", "Below this many free bytes on the data volume, produce fails with KAFKA_STORAGE_ERROR (retriable); reads go on."),
            new Key("group.commit.max.batches", "4096", "Most batches folded into one RocksDB write and WAL sync."),
            new Key("rocksdb.block.cache.bytes", "67108864", "Shared RocksDB block cache."),
            new Key("rocksdb.write.buffer.bytes", "67108864", "Memtable size of the log column family."),
            new Key("group.initial.rebalance.delay.ms", "3000", "How long the first rebalance of an empty group waits for more members to join."),
            new Key("group.min.session.timeout.ms", "6000", "Smallest session.timeout.ms a consumer may ask for."),
            new Key("group.max.session.timeout.ms", "1800000", "Largest session.timeout.ms a consumer may ask for."),
            new Key("group.consumer.session.timeout.ms", "45000", "Session of a consumer-protocol group member (group.protocol=consumer): one that sends no heartbeat for this long is removed and its partitions reassigned."),
            new Key("group.consumer.heartbeat.interval.ms", "5000", "How often consumer-protocol members are told to heartbeat; a member learns of a new assignment within this."),
            new Key("group.consumer.assignors", "uniform,range", "Server-side assignors of consumer-protocol groups, the first being the default (members may ask for another with group.remote.assignor)."),
            new Key("group.consumer.max.size", "2147483647", "Most members of one consumer-protocol group; one more is refused with GROUP_MAX_SIZE_REACHED."),
            new Key("transaction.max.timeout.ms", "900000", "Longest transaction.timeout.ms a transactional producer may ask for (INVALID_TRANSACTION_TIMEOUT beyond)."),
            new Key("transaction.abort.timed.out.transaction.cleanup.interval.ms", "10000", "How often the transaction coordinator aborts transactions open past their timeout."),
            new Key("add.partitions.to.txn.retry.backoff.ms", "20", "When the transaction coordinator answers a partition leader's check or add"
                    + " with CONCURRENT_TRANSACTIONS (the previous transaction's markers are still being written), how long the leader waits before asking again."),
            new Key("add.partitions.to.txn.retry.backoff.max.ms", "100", "How long a partition leader keeps asking before it answers the producer"
                    + " with the (retriable) error."),
            new Key("transaction.version", "2", "The transaction.version feature brokers report to clients (Kafka sets it with kafka-features; here a"
                    + " setting, the same on every broker): 2 (KIP-890 part 2) has Kafka 4 producers bump their epoch at every transaction"
                    + " end and add partitions through their writes; 1 keeps the older protocol."),
            new Key("offsets.compaction.bytes", "67108864", "When the committed-offsets shard grows past this, its live offsets are rewritten and older records dropped."),
            new Key("rocksdb.blob.files", "false", "Keep record batches in RocksDB blob files (BlobDB) so compaction moves only keys."),
            new Key("log.data.files", "true", "Append record batches of 512 bytes or more to data files beside RocksDB, which keeps only a 77-byte "
                    + "reference: each byte reaches the disk once instead of in RocksDB's WAL, flush and compactions "
                    + "(decision 0027). At cluster version (capstan.version) 3 each group-commit round is written there with its "
                    + "RocksDB write and acknowledged after one fsync of the data files, RocksDB's WAL synced once a second and "
                    + "rebuilt from the data files after a crash (decision 0033; on-disk format 3); at 2 the data files are fsynced "
                    + "before the WAL that refers to them (format 2). Takes effect from the broker's next start after the version "
                    + "allows it; Capstan before a format cannot read it (docs/operations.md, \"Upgrades and the cluster version\")."),
            new Key("log.data.file.bytes", "268435456", "Size past which a data file is closed at the next group-commit round and the next begun; a file is deleted once retention, deletion, "
                    + "truncation or compaction dropped every batch in it, or once its live batches were moved out (log.data.file.reclaim.ratio); a full one is kept instead as the spare the next file begins on, unless one is (decision 0034)."),
            new Key("log.preallocate", "false", "Also begin data files on spares written with zeros ahead of need (made once the file being appended "
                    + "to is half full), not only on deleted files kept for it (always done), so that the fsync of each "
                    + "group-commit round writes the round alone and not also the file's size and block map (decision "
                    + "0034): in (a) here 4-9 % more throughput at the same CPU, but every new file is written twice "
                    + "(zeros, then records), which halves the ingest of a disk whose throughput is capped. Off, as in "
                    + "Kafka."),
            new Key("log.data.file.reclaim.ratio", "0.5", "Share of a data file's bytes no longer referenced above which its live batches are copied to the "
                    + "newest data file and the file deleted, so that a long-retained shard does not keep alive the files it shares with "
                    + "short-lived ones. Checked every log.retention.check.interval.ms, when every file past the ratio is reclaimed, most dead first."),
            new Key("log.segment.delete.delay.ms", "60000", "How long after no batch in it is referenced a data file is deleted, so that a fetch that found a "
                    + "batch just before can still read it (as in Kafka)."),
            new Key("max.connections", "2147483647", "Most client connections across all listeners; a connection beyond it is closed at once, where Kafka leaves it waiting in the accept backlog (capstan_connections_closed_by_broker_total)."),
            new Key("max.connections.per.ip", "2147483647", "Most connections from one client address; a connection beyond it is closed at once."),
            new Key("max.partitions", "50000", "Most partitions (shards) the whole cluster may have: CreateTopics and CreatePartitions beyond it"
                    + " are refused with POLICY_VIOLATION. Capstan's own (Kafka has none); five times the largest cluster measured (docs/scale.md)."),
            new Key("connections.max.idle.ms", "600000", "A connection with no bytes read or written for this long is closed."),
            new Key("quota.window.num", "11", "Samples client byte-rate quotas (producer_byte_rate, consumer_byte_rate) are measured over."),
            new Key("quota.window.size.seconds", "1", "Length of one quota sample."),
            new Key("max.incremental.fetch.session.cache.slots", "1000", "Incremental fetch sessions (KIP-227) the broker keeps; when all are taken the least recently used one goes (its client starts a new one). 0: none, every fetch lists all its partitions."),
            new Key("fetch.max.bytes", "57671680", "Most record bytes one Fetch answer carries, whatever the client asks (at least one batch is always returned)."),
            new Key("log.message.timestamp.after.max.ms", "3600000", "A produced batch whose largest timestamp is further than this ahead of the broker's clock is refused with INVALID_TIMESTAMP (Kafka 4's default). Per topic: message.timestamp.after.max.ms."),
            new Key("log.message.timestamp.before.max.ms", "9223372036854775807", "A produced batch whose first timestamp is further than this behind the broker's clock is refused with INVALID_TIMESTAMP. Per topic: message.timestamp.before.max.ms."),
            new Key("queued.max.request.bytes", "268435456", "Bytes of produced batches waiting for the log across all connections; above it the broker stops reading requests until half has drained."),
            new Key("metadata.store", "", "Cluster metadata store: file (metadata.dir, brokers of one machine), kubernetes (ConfigMaps in metadata.namespace; the operator sets it), embedded (a cluster of one, its store in data.dir), or empty: file when metadata.dir is set, else embedded."),
            new Key("metadata.dir", "", "Directory of the local cluster metadata store shared by the brokers of one machine (capstan cluster up sets it)."),
            new Key("metadata.namespace", "", "Kubernetes namespace of the metadata store (metadata.store=kubernetes); default: the POD_NAMESPACE environment variable."),
            new Key("metadata.kubernetes.kind", "ConfigMap", "With metadata.store=kubernetes: the kind of object each key is kept in: ConfigMap,"
                    + " or MetadataEntry (capstan.io custom resources, so the brokers need no access to the namespace's ConfigMaps; the operator chooses it for new clusters)."),
            new Key("metadata.name", "", "Name of the metadata store (metadata.store=kubernetes), normally the BrokerCluster's name; default: cluster.id."),
            new Key("broker.rack", "", "Rack (zone) of this broker, used to spread replicas."),
            new Key("broker.rack.node.label", "", "With metadata.store=kubernetes: take broker.rack from this label of the node the pod runs on (named by the NODE_NAME environment variable); the brokers need get on nodes."),
            new Key("broker.lease.ms", "6000", "How long the broker's registration lives without renewal; after it the controller moves leadership away (sooner if a renewal is overdue and the broker's port refuses connections: its process is gone)."),
            new Key("broker.heartbeat.interval.ms", "1000", "How often the broker renews its registration; a renewal this late plus a quarter is overdue and the controller probes the broker. At most half of broker.lease.ms."),
            new Key("replica.lag.time.max.ms", "10000", "A follower that has not caught up with the leader for this long leaves the in-sync replicas."),
            new Key("min.insync.replicas", "1", "acks=all produce needs at least this many in-sync replicas (NOT_ENOUGH_REPLICAS otherwise). Per topic: config min.insync.replicas."),
            new Key("default.replication.factor", "3", "Replicas of a topic created without a replication factor, capped at the number of live brokers."),
            new Key("replica.fetch.max.wait.ms", "500", "How long a follower's fetch waits at the leader for new records."),
            new Key("replica.fetch.max.bytes", "8388608", "Most bytes a follower fetches per request."),
            new Key("leader.replication.throttled.rate", "9223372036854775807", "Bytes a second this broker sends, as leader, to followers that are not in sync for the replicas a topic's leader.replication.throttled.replicas names (a reassignment's copies); in-sync followers are never throttled. Set it dynamically, as kafka-reassign-partitions --throttle does."),
            new Key("follower.replication.throttled.rate", "9223372036854775807", "Bytes a second this broker fetches, as a follower not in sync, for the replicas a topic's follower.replication.throttled.replicas names. Set it dynamically, as kafka-reassign-partitions --throttle does."),
            new Key("tracing.otlp.endpoint", "", "OTLP/HTTP traces endpoint (e.g. http://otel-collector:4318/v1/traces) that request spans are exported to; empty: tracing off."),
            new Key("tracing.sampling.ratio", "0.01", "Share of requests traced at random (0 to 1), besides the slow ones and those whose records carry a sampled W3C traceparent header."),
            new Key("tracing.slow.request.ms", "1000", "A request that takes at least this long, from its frame read to its response written, is always traced."),
            new Key("replica.alter.log.dirs.io.max.bytes.per.second", "9223372036854775807", "Kafka's throttle on moving replicas between one broker's log directories. A Capstan broker has one data directory, so there are no such moves and the value has no effect; it is accepted (and must be > 0) because kafka-reassign-partitions sets and removes it."));

    public BrokerConfig {
        require(nodeId >= 0, "node.id must be >= 0, got " + nodeId);
        require(port >= 0 && port <= 65535, "listener.port must be 0..65535, got " + port);
        require(adminPort >= -1 && adminPort <= 65535, "admin.port must be -1..65535, got " + adminPort);
        require(socketRequestMaxBytes > 0, "socket.request.max.bytes must be > 0");
        require(messageMaxBytes > 0, "message.max.bytes must be > 0");
        require(defaultPartitions > 0, "num.partitions must be > 0");
        require(flushIntervalMs > 0, "log.flush.interval.ms must be > 0");
        require(groupCommitMaxBatches > 0, "group.commit.max.batches must be > 0");
        require(tailCacheBytesPerShard >= 0, "tail.cache.bytes.per.shard must be >= 0 (0 turns the tail cache off), got " + tailCacheBytesPerShard);
        require(tailCacheMaxBytes >= -1, "tail.cache.max.bytes must be >= 0, or -1 for a quarter of the heap, got " + tailCacheMaxBytes);
        require(maxPendingBytes > 0, "queued.max.request.bytes must be > 0");
        require(logSegmentDeleteDelayMs >= 0, "log.segment.delete.delay.ms must be >= 0, got " + logSegmentDeleteDelayMs);
        require(tracing.samplingRatio() >= 0 && tracing.samplingRatio() <= 1,
                "tracing.sampling.ratio must be between 0 and 1, got " + tracing.samplingRatio());
        require(tracing.slowRequestMs() >= 0, "tracing.slow.request.ms must be >= 0, got " + tracing.slowRequestMs());
        require(tracing.otlpEndpoint().isEmpty() || tracing.otlpEndpoint().matches("https?://[^\\s/]+(/\\S*)?"),
                "tracing.otlp.endpoint must be an http:// or https:// URL (e.g. http://otel-collector:4318/v1/traces), got '"
                        + tracing.otlpEndpoint() + "'");
        require(logDataFileReclaimRatio > 0 && logDataFileReclaimRatio <= 1,
                "log.data.file.reclaim.ratio must be above 0 and at most 1, got " + logDataFileReclaimRatio);
        require(logDataFileBytes >= 65536 && logDataFileBytes <= 1L << 40, "log.data.file.bytes must be 65536 (64 KiB) to 2^40, got " + logDataFileBytes);
        require(limits.maxConnections() > 0, "max.connections must be > 0");
        require(limits.maxConnectionsPerIp() > 0, "max.connections.per.ip must be > 0");
        require(limits.maxPartitions() > 0, "max.partitions must be > 0");
        require(limits.fetchSessionSlots() >= 0, "max.incremental.fetch.session.cache.slots must be >= 0");
        require(limits.connectionsMaxIdleMs() > 0, "connections.max.idle.ms must be > 0");
        require(limits.fetchMaxBytes() >= 1024, "fetch.max.bytes must be at least 1024, as in Kafka");
        require(limits.quotaWindowNum() >= 1, "quota.window.num must be >= 1, as in Kafka");
        require(limits.quotaWindowSizeSeconds() >= 1, "quota.window.size.seconds must be >= 1, as in Kafka");
        require(cleaner.dedupeBufferBytes() >= 1 << 20, "log.cleaner.dedupe.buffer.size must be at least 1048576 (1 MiB)");
        require(cleaner.ioMaxBytesPerSecond() > 0, "log.cleaner.io.max.bytes.per.second must be > 0");
        require(cleaner.backoffMs() >= 0, "log.cleaner.backoff.ms must be >= 0");
        require(CleanupPolicies.problem(cleaner.cleanupPolicy()) == null, "log." + CleanupPolicies.problem(cleaner.cleanupPolicy()));
        require(cleaner.deleteRetentionMs() >= 0, "log.cleaner.delete.retention.ms must be >= 0");
        require(cleaner.minCompactionLagMs() >= 0, "log.cleaner.min.compaction.lag.ms must be >= 0");
        require(cleaner.maxCompactionLagMs() >= 1, "log.cleaner.max.compaction.lag.ms must be >= 1");
        require(cleaner.minCleanableRatio() >= 0 && cleaner.minCleanableRatio() <= 1, "log.cleaner.min.cleanable.ratio must be between 0 and 1");
        require(timestamps.afterMaxMs() >= 0, "log.message.timestamp.after.max.ms must be >= 0");
        require(timestamps.beforeMaxMs() >= 0, "log.message.timestamp.before.max.ms must be >= 0");
        require(replication.leaseMs() >= 100, "broker.lease.ms must be >= 100");
        require(replication.heartbeatMs() >= 50 && replication.heartbeatMs() <= replication.leaseMs() / 2,
                "broker.heartbeat.interval.ms must be 50.." + replication.leaseMs() / 2 + " (at most half of broker.lease.ms="
                        + replication.leaseMs() + ", so a renewal can be late without the lease running out), got " + replication.heartbeatMs());
        require(replication.lagMaxMs() > 0, "replica.lag.time.max.ms must be > 0");
        require(replication.minInsyncReplicas() >= 1, "min.insync.replicas must be >= 1");
        require(replication.defaultReplicationFactor() >= 1, "default.replication.factor must be >= 1");
        require(replication.fetchMaxWaitMs() >= 0, "replica.fetch.max.wait.ms must be >= 0");
        require(replication.fetchMaxBytes() > 0, "replica.fetch.max.bytes must be > 0");
        require(replication.leaderThrottledRate() > 0, "leader.replication.throttled.rate must be > 0 (bytes a second), got "
                + replication.leaderThrottledRate());
        require(replication.followerThrottledRate() > 0, "follower.replication.throttled.rate must be > 0 (bytes a second), got "
                + replication.followerThrottledRate());
        require(replication.metadataStore() != MetadataStoreKind.FILE || replication.metadataDir() != null,
                "metadata.store=file needs metadata.dir");
        require(replication.metadataStore() != MetadataStoreKind.KUBERNETES || !replication.metadataNamespace().isEmpty(),
                "metadata.store=kubernetes needs metadata.namespace (or the POD_NAMESPACE environment variable)");
        require(replication.rackNodeLabel().isEmpty() || replication.metadataStore() == MetadataStoreKind.KUBERNETES,
                "broker.rack.node.label needs metadata.store=kubernetes (elsewhere set broker.rack)");
        require(replication.rackNodeLabel().isEmpty() || replication.rack().isEmpty(),
                "set broker.rack or broker.rack.node.label, not both");
        require(nodeId >= 0 && nodeId < 4096, "node.id must be between 0 and 4095 (it is part of producer ids), got " + nodeId);
        require(security.listeners().stream().anyMatch(l -> l.name().equals(security.interBrokerListener())),
                "inter.broker.listener.name " + security.interBrokerListener() + " is not one of listeners");
        require(replication.embedded() || !security.interBroker().sasl() || !security.interBrokerClient().username().isEmpty(),
                "the inter-broker listener " + security.interBrokerListener() + " uses SASL: set inter.broker.sasl.username and"
                        + " inter.broker.sasl.password (a user with ClusterAction, e.g. one of super.users)");
        require(groupInitialRebalanceDelayMs >= 0, "group.initial.rebalance.delay.ms must be >= 0");
        require(transactions.maxTimeoutMs() > 0, "transaction.max.timeout.ms must be > 0");
        require(transactions.abortCheckIntervalMs() > 0, "transaction.abort.timed.out.transaction.cleanup.interval.ms must be > 0");
        require(transactions.version() == 1 || transactions.version() == 2, "transaction.version must be 1 or 2, got " + transactions.version());
        require(transactions.addPartitionsRetryBackoffMs() > 0 && transactions.addPartitionsRetryBackoffMaxMs() >= 0,
                "add.partitions.to.txn.retry.backoff.ms must be > 0 and add.partitions.to.txn.retry.backoff.max.ms >= 0");
        require(consumerGroups.heartbeatIntervalMs() > 0 && consumerGroups.heartbeatIntervalMs() < consumerGroups.sessionTimeoutMs(),
                "group.consumer.heartbeat.interval.ms must be > 0 and < group.consumer.session.timeout.ms (members must heartbeat"
                        + " several times a session)");
        require(!consumerGroups.assignors().isEmpty() && ConsumerGroups.KNOWN_ASSIGNORS.containsAll(consumerGroups.assignors()),
                "group.consumer.assignors must list some of " + ConsumerGroups.KNOWN_ASSIGNORS + ", got " + consumerGroups.assignors());
        require(consumerGroups.maxSize() > 0, "group.consumer.max.size must be > 0");
        require(groupMinSessionTimeoutMs > 0 && groupMinSessionTimeoutMs <= groupMaxSessionTimeoutMs,
                "group.min.session.timeout.ms must be > 0 and <= group.max.session.timeout.ms");
    }

    /** Short names; Kafka's class names of its two assignors are read as theirs. */
    private static List<String> assignorNames(String value) {
        List<String> names = new ArrayList<>();
        for (String part : value.split(",")) {
            String name = part.trim();
            if (name.isEmpty()) {
                continue;
            }
            names.add(switch (name) {
                case "org.apache.kafka.coordinator.group.assignor.UniformAssignor" -> "uniform";
                case "org.apache.kafka.coordinator.group.assignor.RangeAssignor" -> "range";
                default -> name;
            });
        }
        return names;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new ConfigException(message);
        }
    }

    /** Defaults overlaid with the given settings; unknown keys are refused so typos do not pass silently. */
    public static BrokerConfig from(Map<String, String> settings) {
        Map<String, String> merged = new LinkedHashMap<>();
        KEYS.forEach(k -> merged.put(k.name(), k.defaultValue()));
        List<String> unknown = new ArrayList<>();
        settings.forEach((k, v) -> {
            if (!merged.containsKey(k) && !SecuritySettings.isListenerOverride(k, merged)) {
                unknown.add(k);
            }
            merged.put(k, v.trim());
        });
        if (!unknown.isEmpty()) {
            Collections.sort(unknown);
            throw new ConfigException("unknown setting(s) " + unknown + "; see docs/configuration.md for the valid keys");
        }
        Settings s = new Settings(merged);
        long alterLogDirsRate = s.longValue("replica.alter.log.dirs.io.max.bytes.per.second");
        require(alterLogDirsRate > 0, "replica.alter.log.dirs.io.max.bytes.per.second must be > 0 (bytes a second), got " + alterLogDirsRate);
        Security security = SecuritySettings.read(merged, settings.keySet());
        Listener first = security.listeners().get(0);
        String host = first.host();
        String advertisedHost = first.advertisedHost();
        return new BrokerConfig(
                s.integer("node.id"),
                s.string("cluster.id"),
                host,
                first.port(),
                advertisedHost,
                first.advertisedPort(),
                s.integer("admin.port"),
                Path.of(s.string("data.dir")),
                s.flushPolicy("log.flush.policy"),
                s.longValue("log.flush.interval.ms"),
                s.integer("socket.request.max.bytes"),
                s.integer("message.max.bytes"),
                s.integer("num.partitions"),
                s.bool("auto.create.topics.enable"),
                s.longValue("retention.ms"),
                s.longValue("retention.bytes"),
                s.longValue("log.retention.check.interval.ms"),
                s.longValue("tail.cache.bytes.per.shard"),
                s.longValue("tail.cache.max.bytes"),
                s.longValue("disk.min.free.bytes"),
                s.integer("group.commit.max.batches"),
                s.longValue("rocksdb.block.cache.bytes"),
                s.longValue("rocksdb.write.buffer.bytes"),
                s.integer("group.initial.rebalance.delay.ms"),
                s.integer("group.min.session.timeout.ms"),
                s.integer("group.max.session.timeout.ms"),
                s.longValue("offsets.compaction.bytes"),
                s.bool("rocksdb.blob.files"),
                s.bool("log.data.files"),
                s.longValue("log.data.file.bytes"),
                s.bool("log.preallocate"),
                s.decimal("log.data.file.reclaim.ratio"),
                s.longValue("log.segment.delete.delay.ms"),
                s.longValue("queued.max.request.bytes"),
                new Limits(s.integer("max.connections"), s.integer("max.connections.per.ip"), s.longValue("connections.max.idle.ms"),
                        s.integer("fetch.max.bytes"), s.integer("quota.window.num"), s.integer("quota.window.size.seconds"),
                        s.integer("max.partitions"), s.integer("max.incremental.fetch.session.cache.slots")),
                new TimestampBounds(s.longValue("log.message.timestamp.before.max.ms"), s.longValue("log.message.timestamp.after.max.ms")),
                new Cleaner(s.bool("log.cleaner.enable"), s.longValue("log.cleaner.dedupe.buffer.size"),
                        s.decimal("log.cleaner.io.max.bytes.per.second"), s.longValue("log.cleaner.backoff.ms"),
                        s.string("log.cleanup.policy"), s.longValue("log.cleaner.delete.retention.ms"),
                        s.longValue("log.cleaner.min.compaction.lag.ms"), s.longValue("log.cleaner.max.compaction.lag.ms"),
                        s.decimal("log.cleaner.min.cleanable.ratio")),
                new Transactions(s.integer("transaction.max.timeout.ms"), s.longValue("transaction.abort.timed.out.transaction.cleanup.interval.ms"),
                        s.integer("transaction.version"), s.integer("add.partitions.to.txn.retry.backoff.ms"),
                        s.integer("add.partitions.to.txn.retry.backoff.max.ms")),
                new ConsumerGroups(s.integer("group.consumer.session.timeout.ms"), s.integer("group.consumer.heartbeat.interval.ms"),
                        assignorNames(s.string("group.consumer.assignors")), s.integer("group.consumer.max.size")),
                new Replication(
                        s.metadataStore(),
                        s.metadataStore() == MetadataStoreKind.EMBEDDED ? Path.of(s.string("data.dir")).resolve(EMBEDDED_METADATA_DIR)
                                : s.string("metadata.dir").isEmpty() ? null : Path.of(s.string("metadata.dir")),
                        s.string("metadata.namespace").isEmpty() ? System.getenv().getOrDefault("POD_NAMESPACE", "") : s.string("metadata.namespace"),
                        s.string("metadata.name").isEmpty() ? s.string("cluster.id") : s.string("metadata.name"),
                        s.metadataKubernetesKind(),
                        s.string("broker.rack"),
                        s.string("broker.rack.node.label"),
                        s.longValue("broker.lease.ms"),
                        s.longValue("broker.heartbeat.interval.ms"),
                        s.longValue("replica.lag.time.max.ms"),
                        s.integer("min.insync.replicas"),
                        s.integer("default.replication.factor"),
                        s.integer("replica.fetch.max.wait.ms"),
                        s.integer("replica.fetch.max.bytes"),
                        s.longValue("leader.replication.throttled.rate"),
                        s.longValue("follower.replication.throttled.rate")),
                security,
                s.string("admin.token.file").isEmpty() ? null : Path.of(s.string("admin.token.file")),
                new Tracing(s.string("tracing.otlp.endpoint"), s.decimal("tracing.sampling.ratio"), s.longValue("tracing.slow.request.ms")));
    }

    public static BrokerConfig defaults() {
        return from(Map.of());
    }

    private record Settings(Map<String, String> values) {
        String string(String key) {
            return values.get(key);
        }

        int integer(String key) {
            try {
                return Integer.parseInt(values.get(key));
            } catch (NumberFormatException e) {
                boolean digits = values.get(key).matches("-?[0-9]+");
                throw new ConfigException(key + (digits ? " must be at most " + Integer.MAX_VALUE : " must be an integer")
                        + ", got '" + values.get(key) + "'");
            }
        }

        long longValue(String key) {
            try {
                return Long.parseLong(values.get(key));
            } catch (NumberFormatException e) {
                throw new ConfigException(key + " must be an integer, got '" + values.get(key) + "'");
            }
        }

        double decimal(String key) {
            try {
                double v = Double.parseDouble(values.get(key));
                if (Double.isNaN(v) || Double.isInfinite(v)) {
                    throw new NumberFormatException();
                }
                return v;
            } catch (NumberFormatException e) {
                throw new ConfigException(key + " must be a number, got '" + values.get(key) + "'");
            }
        }

        boolean bool(String key) {
            String v = values.get(key).toLowerCase(Locale.ROOT);
            if (!v.equals("true") && !v.equals("false")) {
                throw new ConfigException(key + " must be true or false, got '" + v + "'");
            }
            return Boolean.parseBoolean(v);
        }

        MetadataStoreKind metadataStore() {
            String v = values.get("metadata.store").toLowerCase(Locale.ROOT);
            return switch (v) {
                case "" -> values.get("metadata.dir").isEmpty() ? MetadataStoreKind.EMBEDDED : MetadataStoreKind.FILE;
                case "embedded" -> MetadataStoreKind.EMBEDDED;
                case "file" -> MetadataStoreKind.FILE;
                case "kubernetes" -> MetadataStoreKind.KUBERNETES;
                default -> throw new ConfigException("metadata.store must be 'embedded', 'file' or 'kubernetes', got '" + v + "'");
            };
        }

        String metadataKubernetesKind() {
            String v = values.get("metadata.kubernetes.kind");
            if (!v.equals("ConfigMap") && !v.equals("MetadataEntry")) {
                throw new ConfigException("metadata.kubernetes.kind must be ConfigMap or MetadataEntry, got '" + v + "'");
            }
            return v;
        }

        FlushPolicy flushPolicy(String key) {
            String v = values.get(key).toUpperCase(Locale.ROOT);
            try {
                return FlushPolicy.valueOf(v);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(key + " must be 'always' or 'interval', got '" + values.get(key) + "'");
            }
        }
    }
}
