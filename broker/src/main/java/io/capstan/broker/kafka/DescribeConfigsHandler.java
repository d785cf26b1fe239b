package io.capstan.broker.kafka;

import io.capstan.broker.config.DynamicConfigStore;
import io.capstan.cluster.metadata.TopicRecord;
import io.capstan.cluster.topics.ClusterTopics;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.acl.AclOperation;

/**
 * DescribeConfigs for topics (effective settings, marking overrides), this broker (its settings and where each comes
 * from) and the cluster's dynamic defaults (broker resource "").
 */
public final class DescribeConfigsHandler implements ApiHandler {
    private final ClusterTopics topics;
    private final DynamicConfigStore brokerConfigs;

    public DescribeConfigsHandler(ClusterTopics topics, DynamicConfigStore brokerConfigs) {
        this.topics = topics;
        this.brokerConfigs = brokerConfigs;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        DescribeConfigsRequestData request = (DescribeConfigsRequestData) message;
        DescribeConfigsResponseData response = new DescribeConfigsResponseData();
        for (DescribeConfigsRequestData.DescribeConfigsResource resource : request.resources()) {
            ConfigResource.Type type = ConfigResource.Type.forId(resource.resourceType());
            boolean authorized = type == ConfigResource.Type.TOPIC
                    ? context.allowedOnTopic(AclOperation.DESCRIBE_CONFIGS, resource.resourceName())
                    : context.allowedOnCluster(AclOperation.DESCRIBE_CONFIGS);
            if (!authorized) {
                Errors error = type == ConfigResource.Type.TOPIC ? Errors.TOPIC_AUTHORIZATION_FAILED : Errors.CLUSTER_AUTHORIZATION_FAILED;
                response.results().add(new DescribeConfigsResult().setResourceType(resource.resourceType())
                        .setResourceName(resource.resourceName()).setErrorCode(error.code()).setErrorMessage("needs DESCRIBE_CONFIGS"));
                continue;
            }
            response.results().add(describe(resource, context.version(), request.includeSynonyms(), request.includeDocumentation()));
        }
        return CompletableFuture.completedFuture(response);
    }

    private DescribeConfigsResult describe(DescribeConfigsRequestData.DescribeConfigsResource resource, short version,
                                           boolean synonyms, boolean documentation) {
        DescribeConfigsResult result = new DescribeConfigsResult()
                .setResourceType(resource.resourceType()).setResourceName(resource.resourceName());
        ConfigResource.Type type = ConfigResource.Type.forId(resource.resourceType());
        List<DescribeConfigsResourceResult> entries;
        ConfigDescriptions.BrokerLayers layers = new ConfigDescriptions.BrokerLayers(brokerConfigs.started(),
                brokerConfigs.clusterDefaults(), brokerConfigs.ofThisBroker());
        if (type == ConfigResource.Type.TOPIC) {
            // the cluster's record, not this broker's copy: any broker answers for any topic, hosted here or not
            TopicRecord topic = TopicNames.problem(resource.resourceName()) == null ? topics.known(resource.resourceName()) : null;
            if (topic == null) {
                return result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()).setErrorMessage("no such topic");
            }
            entries = ConfigDescriptions.topic(topic.configs(), layers, version, synonyms, documentation);
        } else if (type == ConfigResource.Type.BROKER) {
            if (resource.resourceName().isEmpty()) {
                entries = ConfigDescriptions.clusterDefaults(layers, version, synonyms, documentation);
            } else if (resource.resourceName().equals(String.valueOf(brokerConfigs.brokerId()))) {
                entries = ConfigDescriptions.broker(layers, version, synonyms, documentation);
            } else {
                return result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("this is broker " + brokerConfigs.brokerId()
                        + ", not " + resource.resourceName() + ": send a broker's DescribeConfigs to that broker (Kafka's admin clients do)");
            }
        } else {
            return result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("resource type " + type + " is not supported");
        }
        List<String> wanted = resource.configurationKeys();
        entries.stream().filter(e -> wanted == null || wanted.isEmpty() || wanted.contains(e.name())).forEach(result.configs()::add);
        return result;
    }
}
