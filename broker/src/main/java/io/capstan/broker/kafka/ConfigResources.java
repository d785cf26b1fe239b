package io.capstan.broker.kafka;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.protocol.Errors;

/**
 * What both AlterConfigs APIs do once their request is read: every resource named more than once refused, broker
 * resources refused, authorization checked, each topic's change written ({@link TopicConfigWriter}).
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

    ConfigResources(TopicConfigWriter topics) {
        this.topics = topics;
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
            TopicConfigWriter.Result refused = refusal(context, ConfigResource.Type.forId(c.type()), c.name(),
                    c.entries().stream().map(TopicConfigChange.Entry::key).toList());
            results.add(refused != null ? refused : topics.write(c.name(), current -> replacing
                    ? TopicConfigChange.replacing(c.entries())
                    : TopicConfigChange.incremental(current, c.entries()), validateOnly));
        }
        return results;
    }

    /**
     * Why a change to this resource is refused before its configs are looked at, or null for a topic the caller may
     * alter. Broker settings (and log levels) are read once at start in Capstan: none can change live, so every key is
     * refused as Kafka refuses a static one, with where to change it instead.
     */
    private static TopicConfigWriter.Result refusal(RequestContext context, ConfigResource.Type type, String name, List<String> keys) {
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
                return new TopicConfigWriter.Result(Errors.INVALID_REQUEST, "Cannot update these configs dynamically: " + new TreeSet<>(keys)
                        + ". Capstan reads broker settings at start: change them in the broker's properties file (on Kubernetes, the"
                        + " BrokerCluster's spec.config, which the operator rolls out) and restart the broker");
            }
            default -> {
                return new TopicConfigWriter.Result(Errors.INVALID_REQUEST, "Unknown resource type " + type + " for config changes");
            }
        }
    }
}
