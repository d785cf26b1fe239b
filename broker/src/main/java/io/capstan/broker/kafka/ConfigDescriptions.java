package io.capstan.broker.kafka;

import io.capstan.config.BrokerConfig;
import io.capstan.config.DynamicSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsSynonym;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigType;

/**
 * What DescribeConfigs says of each setting, as Kafka says it: the effective value, where it comes from (a topic
 * override, the broker's properties, or the default), the synonyms behind it (most specific first), its type and its
 * documentation. Pure: the handler passes in the topic's overrides and the broker's settings in their layers.
 */
public final class ConfigDescriptions {
    /**
     * A broker's settings where they come from, most specific last: its properties file, the cluster's dynamic
     * defaults, its own dynamic settings.
     */
    record BrokerLayers(Map<String, String> started, Map<String, String> clusterDefaults, Map<String, String> broker) {
        static BrokerLayers staticOnly(Map<String, String> started) {
            return new BrokerLayers(started, Map.of(), Map.of());
        }

        /** The synonyms of a broker key that some layer sets, most specific first. */
        List<DescribeConfigsSynonym> set(String key) {
            List<DescribeConfigsSynonym> chain = new ArrayList<>();
            if (broker.containsKey(key)) {
                chain.add(synonym(key, broker.get(key), ConfigSource.DYNAMIC_BROKER_CONFIG));
            }
            if (clusterDefaults.containsKey(key)) {
                chain.add(synonym(key, clusterDefaults.get(key), ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG));
            }
            if (started.containsKey(key)) {
                chain.add(synonym(key, started.get(key), ConfigSource.STATIC_BROKER_CONFIG));
            }
            return chain;
        }
    }

    /** A topic setting, the broker setting that gives its default (null: a fixed default) and what it means. */
    record TopicKey(String name, String brokerKey, String fixedDefault, ConfigType type, String documentation) {}

    static final List<TopicKey> TOPIC_KEYS = List.of(
            new TopicKey("cleanup.policy", "log.cleanup.policy", null, ConfigType.LIST,
                    "delete: the oldest batches go once past retention.ms or retention.bytes; compact: the latest record of each key"
                            + " is kept, older ones are removed in the background (offsets stay); compact,delete: both."),
            new TopicKey("delete.retention.ms", "log.cleaner.delete.retention.ms", null, ConfigType.LONG,
                    "How long a tombstone (a record with a key and no value) stays after the cleaner first passed it, in ms."),
            new TopicKey("min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms", null, ConfigType.LONG,
                    "A record younger than this is never compacted."),
            new TopicKey("max.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms", null, ConfigType.LONG,
                    "A record older than this is compacted whatever the dirty ratio."),
            new TopicKey("min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio", null, ConfigType.DOUBLE,
                    "The share of a partition's bytes not yet compacted above which the cleaner compacts it."),
            new TopicKey("retention.ms", "retention.ms", null, ConfigType.LONG, "How long a record is kept, in ms (-1: forever)."),
            new TopicKey("retention.bytes", "retention.bytes", null, ConfigType.LONG,
                    "Most bytes one partition keeps (-1: unlimited); the oldest batches go first."),
            new TopicKey("max.message.bytes", "message.max.bytes", null, ConfigType.INT, "Largest record batch this topic accepts."),
            new TopicKey("min.insync.replicas", "min.insync.replicas", null, ConfigType.INT,
                    "In-sync replicas a write with acks=all needs (NOT_ENOUGH_REPLICAS below)."),
            new TopicKey("message.timestamp.type", null, "CreateTime", ConfigType.STRING, "CreateTime: the producer's timestamps are kept."),
            new TopicKey("message.timestamp.after.max.ms", "log.message.timestamp.after.max.ms", null, ConfigType.LONG,
                    "How far past the broker's clock a record's timestamp may be (INVALID_TIMESTAMP beyond)."),
            new TopicKey("message.timestamp.before.max.ms", "log.message.timestamp.before.max.ms", null, ConfigType.LONG,
                    "How far behind the broker's clock a record's timestamp may be (INVALID_TIMESTAMP beyond)."),
            new TopicKey("leader.replication.throttled.replicas", null, "", ConfigType.LIST,
                    "Replicas (partition:broker, or *) whose leader sends to out-of-sync followers at most leader.replication.throttled.rate."),
            new TopicKey("follower.replication.throttled.replicas", null, "", ConfigType.LIST,
                    "Replicas (partition:broker, or *) that fetch while out of sync at most follower.replication.throttled.rate."));

    private ConfigDescriptions() {}

    /** A topic's settings. {@code version}: the request's (types and documentation exist from v3). */
    static List<DescribeConfigsResourceResult> topic(Map<String, String> overrides, BrokerLayers broker, short version,
                                                     boolean synonyms, boolean documentation) {
        List<DescribeConfigsResourceResult> out = new ArrayList<>();
        for (TopicKey k : TOPIC_KEYS) {
            List<DescribeConfigsSynonym> chain = new ArrayList<>();
            if (overrides.containsKey(k.name())) {
                chain.add(synonym(k.name(), overrides.get(k.name()), ConfigSource.TOPIC_CONFIG));
            }
            if (k.brokerKey() != null) {
                chain.addAll(broker.set(k.brokerKey()));
            }
            String defaultValue = k.brokerKey() == null ? k.fixedDefault() : defaultOf(k.brokerKey());
            chain.add(synonym(k.brokerKey() == null ? k.name() : k.brokerKey(), defaultValue, ConfigSource.DEFAULT_CONFIG));
            DescribeConfigsSynonym effective = chain.get(0);
            DescribeConfigsResourceResult r = new DescribeConfigsResourceResult().setName(k.name()).setValue(effective.value())
                    .setReadOnly(false).setConfigSource(effective.source()).setIsSensitive(false);
            describe(r, chain, k.type(), k.documentation(), version, synonyms, documentation);
            out.add(r);
        }
        return out;
    }

    /**
     * One broker's settings: all of them, each from its most specific layer; read-only unless it can change live
     * ({@link DynamicSettings#KEYS}); secrets hidden.
     */
    static List<DescribeConfigsResourceResult> broker(BrokerLayers layers, short version, boolean synonyms, boolean documentation) {
        List<DescribeConfigsResourceResult> out = new ArrayList<>();
        for (BrokerConfig.Key k : BrokerConfig.KEYS) {
            boolean sensitive = k.name().contains("password") || k.name().endsWith("jaas.config");
            List<DescribeConfigsSynonym> chain = new ArrayList<>(layers.set(k.name()));
            chain.add(synonym(k.name(), k.defaultValue(), ConfigSource.DEFAULT_CONFIG));
            if (sensitive) {
                chain.forEach(c -> c.setValue(null));
            }
            DescribeConfigsSynonym effective = chain.get(0);
            DescribeConfigsResourceResult r = new DescribeConfigsResourceResult().setName(k.name()).setValue(effective.value())
                    .setReadOnly(!DynamicSettings.KEYS.contains(k.name())).setConfigSource(effective.source()).setIsSensitive(sensitive);
            describe(r, chain, sensitive ? ConfigType.PASSWORD : ConfigType.UNKNOWN, k.description(), version, synonyms, documentation);
            out.add(r);
        }
        return out;
    }

    /** The cluster's default dynamic settings (Kafka's broker resource ""): only those set, as Kafka lists them. */
    static List<DescribeConfigsResourceResult> clusterDefaults(BrokerLayers layers, short version, boolean synonyms, boolean documentation) {
        List<DescribeConfigsResourceResult> out = new ArrayList<>();
        for (BrokerConfig.Key k : BrokerConfig.KEYS) {
            String value = layers.clusterDefaults().get(k.name());
            if (value != null) {
                DescribeConfigsResourceResult r = new DescribeConfigsResourceResult().setName(k.name()).setValue(value).setReadOnly(false)
                        .setConfigSource(ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG.id()).setIsSensitive(false);
                describe(r, List.of(synonym(k.name(), value, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG)), ConfigType.UNKNOWN,
                        k.description(), version, synonyms, documentation);
                out.add(r);
            }
        }
        return out;
    }

    private static void describe(DescribeConfigsResourceResult r, List<DescribeConfigsSynonym> chain, ConfigType type, String doc,
                                 short version, boolean synonyms, boolean documentation) {
        if (synonyms && version >= 1) {
            r.setSynonyms(chain);
        }
        if (version >= 3) {
            r.setConfigType(type.id());
            if (documentation) {
                r.setDocumentation(doc);
            }
        }
    }

    private static String defaultOf(String brokerKey) {
        return BrokerConfig.KEYS.stream().filter(k -> k.name().equals(brokerKey)).findFirst().map(BrokerConfig.Key::defaultValue).orElseThrow();
    }

    private static DescribeConfigsSynonym synonym(String name, String value, ConfigSource source) {
        return new DescribeConfigsSynonym().setName(name).setValue(value).setSource(source.id());
    }
}
