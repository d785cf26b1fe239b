package io.capstan.broker.kafka;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.protocol.Errors;

/**
 * What both AlterConfigs APIs do once their request is read: every resource named more than once refused,
 * authorization checked, each topic's change written ({@link TopicConfigWriter}), each broker's dynamic settings
 * ({@link BrokerConfigWriter}); log levels refused.
 */
final class ConfigResources {
    private static final TopicConfigWriter.Result DUPLICATE = new TopicConfigWriter.Result(Errors.INVALID_REQUEST, "Each resource must appear at most once.");

    /** One resource's changes as a request names them. */
    record Change(byte type, String name, List<TopicConfigChange.Entry> entries) {
        String id() {
            return type + "/" + name;
        }
    }

    private final TopicConfigWriter topics;
    private final BrokerConfigWriter brokers;
    private final java.util.function.Supplier<io.capstan.config.BrokerConfig> current;

    ConfigResources(TopicConfigWriter topics, BrokerConfigWriter brokers, java.util.function.Supplier<io.capstan.config.BrokerConfig> current) {
        this.topics = topics;
        this.brokers = brokers;
        this.current = current;
    }

    /**
     * One result per change, in order. {@code replacing}: AlterConfigs, whose configs become all of a topic's
     * overrides; otherwise IncrementalAlterConfigs, whose operations apply to the current ones.
     */
    List<TopicConfigWriter.Result> apply(RequestContext context, List<Change> changes, boolean validateOnly, boolean replacing) {
        Set<String> seen = new HashSet<>();
        Set<String> twice = new HashSet<>();
        for (Change c : changes) {
            if (!seen.add(c.id())) {
                twice.add(c.id());
            }
        }
        List<TopicConfigWriter.Result> results = new java.util.ArrayList<>();
        for (Change c : changes) {
            if (twice.contains(c.id())) {
                results.add(DUPLICATE); // every occurrence, as in Kafka
                continue;
            }
            ConfigResource.Type type = ConfigResource.Type.forId(c.type());
            TopicConfigWriter.Result refused = refusal(context, type, c.name());
            if (refused != null) {
                results.add(refused);
            } else if (type == ConfigResource.Type.TOPIC) {
                results.add(topics.write(c.name(), configs -> replacing
                        ? TopicConfigChange.replacing(c.entries())
                        : TopicConfigChange.incremental(configs, c.entries()), validateOnly));
            } else {
                TopicConfigChange.Rules rules = brokerRules();
                results.add(brokers.write(c.name(), c.entries().stream().map(TopicConfigChange.Entry::key).toList(), configs -> replacing
                        ? TopicConfigChange.replacing(c.entries(), rules)
                        : TopicConfigChange.incremental(configs, c.entries(), rules), validateOnly));
            }
        }
        return results;
    }

    /**
     * A broker's: log.cleanup.policy is its one list, APPEND starting from the value in force; values are checked
     * together, as the broker would start with them ({@link BrokerConfigWriter}).
     */
    private TopicConfigChange.Rules brokerRules() {
        return new TopicConfigChange.Rules(Map.of("log.cleanup.policy", current.get().cleaner().cleanupPolicy()), (key, value) -> null);
    }

    /**
     * Why a change to this resource is refused before its configs are looked at, or null for a topic or broker the
     * caller may alter. Log levels are read once at start in Capstan.
     */
    private static TopicConfigWriter.Result refusal(RequestContext context, ConfigResource.Type type, String name) {
        AclOperation operation = AclOperation.ALTER_CONFIGS;
        switch (type) {
            case TOPIC -> {
                if (!context.allowedOnTopic(operation, name)) {
                    return new TopicConfigWriter.Result(Errors.TOPIC_AUTHORIZATION_FAILED,
                            context.principal() + " may not " + operation + " on topic " + name);
                }
                return null;
            }
            case BROKER, BROKER_LOGGER -> {
                if (!context.allowedOnCluster(operation)) {
                    return new TopicConfigWriter.Result(Errors.CLUSTER_AUTHORIZATION_FAILED,
                            context.principal() + " may not " + operation + " on the cluster");
                }
                if (type == ConfigResource.Type.BROKER_LOGGER) {
                    return new TopicConfigWriter.Result(Errors.INVALID_REQUEST,
                            "log levels cannot change at runtime in Capstan: set them in the broker's logging configuration and restart it");
                }
                return null;
            }
            default -> {
                return new TopicConfigWriter.Result(Errors.INVALID_REQUEST, "Unknown resource type " + type + " for config changes");
            }
        }
    }
}
