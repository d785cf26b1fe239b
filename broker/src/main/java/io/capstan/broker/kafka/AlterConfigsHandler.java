package io.capstan.broker.kafka;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.message.AlterConfigsResponseData.AlterConfigsResourceResponse;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * AlterConfigs, the older API (tools before Kafka 2.3 and some admin UIs): the configs given become all of the topic's
 * overrides, the ones left out return to their defaults, as in Kafka.
 */
public final class AlterConfigsHandler implements ApiHandler {
    private final ConfigResources resources;
    private final Executor controlRequests;

    public AlterConfigsHandler(io.capstan.cluster.topics.ClusterTopics cluster, CreateTopicsHandler.Applied applied,
            io.capstan.broker.config.DynamicConfigStore brokerConfigs, java.util.function.Supplier<io.capstan.config.BrokerConfig> current,
            Executor controlRequests) {
        this.resources = new ConfigResources(new TopicConfigWriter(cluster, applied), new BrokerConfigWriter(brokerConfigs), current);
        this.controlRequests = controlRequests;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        AlterConfigsRequestData request = (AlterConfigsRequestData) message;
        List<ConfigResources.Change> changes = request.resources().stream().map(r -> new ConfigResources.Change(r.resourceType(), r.resourceName(),
                r.configs().stream().map(c -> new TopicConfigChange.Entry(c.name(), TopicConfigChange.Op.SET, c.value())).toList()))
                .toList();
        return CompletableFuture.supplyAsync(() -> {
            List<TopicConfigWriter.Result> results = resources.apply(context, changes, request.validateOnly(), true);
            AlterConfigsResponseData response = new AlterConfigsResponseData();
            for (int i = 0; i < changes.size(); i++) {
                response.responses().add(new AlterConfigsResourceResponse().setResourceType(changes.get(i).type())
                        .setResourceName(changes.get(i).name()).setErrorCode(results.get(i).error().code()).setErrorMessage(results.get(i).message()));
            }
            return response;
        }, controlRequests);
    }
}
