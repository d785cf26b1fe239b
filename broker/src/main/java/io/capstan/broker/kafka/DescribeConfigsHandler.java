package io.capstan.broker.kafka;

import io.capstan.config.BrokerConfig;
import io.capstan.cluster.metadata.TopicRecord;
import io.capstan.cluster.topics.ClusterTopics;
import java.util.List;
import java.util.Map;
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
import org.apache.kafka.common.requests.DescribeConfigsResponse;

/** DescribeConfigs for topics (effective settings, marking overrides) and this broker (its settings, read-only). */
public final class DescribeConfigsHandler implements ApiHandler {
    private final ClusterTopics topics;
    private final BrokerConfig config;
    private final Map<String, String> brokerSettings;

    public DescribeConfigsHandler(ClusterTopics topics, BrokerConfig config, Map<String, String> brokerSettings) {
        this.topics = topics;
        this.config = config;
        this.brokerSettings = brokerSettings;
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
            response.results().add(describe(resource));
        }
        return CompletableFuture.completedFuture(response);
    }

    private DescribeConfigsResult describe(DescribeConfigsRequestData.DescribeConfigsResource resource) {
        DescribeConfigsResult result = new DescribeConfigsResult()
                .setResourceType(resource.resourceType()).setResourceName(resource.resourceName());
        ConfigResource.Type type = ConfigResource.Type.forId(resource.resourceType());
        if (type == ConfigResource.Type.TOPIC) {
            // the cluster's record, not this broker's copy: any broker answers for any topic, hosted here or not
            TopicRecord topic = topics.known(resource.resourceName());
            if (topic == null) {
                return result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()).setErrorMessage("no such topic");
            }
            Map<String, String> values = TopicConfigs.effective(topic.configs(), config.retentionMs(), config.retentionBytes(), config.messageMaxBytes(),
                    config.timestamps());
            values.forEach((k, v) -> add(result, resource.configurationKeys(), k, v, topic.configs().containsKey(k)
                    ? DescribeConfigsResponse.ConfigSource.TOPIC_CONFIG : DescribeConfigsResponse.ConfigSource.DEFAULT_CONFIG, false));
            return result;
        }
        if (type == ConfigResource.Type.BROKER) {
            if (!resource.resourceName().isEmpty() && !resource.resourceName().equals(String.valueOf(config.nodeId()))) {
                return result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("unknown broker " + resource.resourceName());
            }
            brokerSettings.forEach((k, v) -> add(result, resource.configurationKeys(), k, v,
                    DescribeConfigsResponse.ConfigSource.STATIC_BROKER_CONFIG, true));
            return result;
        }
        return result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("resource type " + type + " is not supported");
    }

    private static void add(DescribeConfigsResult result, List<String> wanted, String key, String value,
                            DescribeConfigsResponse.ConfigSource source, boolean readOnly) {
        if (wanted != null && !wanted.isEmpty() && !wanted.contains(key)) {
            return;
        }
        // secrets are never sent, as Kafka hides PASSWORD settings
        boolean sensitive = key.contains("password") || key.endsWith("jaas.config");
        result.configs().add(new DescribeConfigsResourceResult().setName(key).setValue(sensitive ? null : value)
                .setReadOnly(readOnly).setConfigSource(source.id()).setIsSensitive(sensitive));
    }
}
