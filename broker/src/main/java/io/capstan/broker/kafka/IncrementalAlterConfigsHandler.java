package io.capstan.broker.kafka;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * IncrementalAlterConfigs (what {@code kafka-configs --alter} and {@code Admin.incrementalAlterConfigs} send): SET,
 * DELETE, APPEND and SUBTRACT on a topic's configs; broker settings are read at start and refused
 * ({@link ConfigResources}).
 */
public final class IncrementalAlterConfigsHandler implements ApiHandler {
    private final ConfigResources resources;
    private final Executor controlRequests;

    /** {@code controlRequests}: where the store writes run, off the event loop. */
    public IncrementalAlterConfigsHandler(io.capstan.cluster.topics.ClusterTopics cluster, CreateTopicsHandler.Applied applied,
            io.capstan.broker.config.DynamicConfigStore brokerConfigs, java.util.function.Supplier<io.capstan.config.BrokerConfig> current,
            Executor controlRequests) {
        this.resources = new ConfigResources(new TopicConfigWriter(cluster, applied), new BrokerConfigWriter(brokerConfigs), current);
        this.controlRequests = controlRequests;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        IncrementalAlterConfigsRequestData request = (IncrementalAlterConfigsRequestData) message;
        List<ConfigResources.Change> changes = request.resources().stream().map(r -> new ConfigResources.Change(r.resourceType(), r.resourceName(),
                r.configs().stream().map(c -> new TopicConfigChange.Entry(c.name(), TopicConfigChange.Op.forId(c.configOperation()), c.value())).toList()))
                .toList();
        return CompletableFuture.supplyAsync(() -> {
            List<TopicConfigWriter.Result> results = resources.apply(context, changes, request.validateOnly(), false);
            IncrementalAlterConfigsResponseData response = new IncrementalAlterConfigsResponseData();
            for (int i = 0; i < changes.size(); i++) {
                response.responses().add(new AlterConfigsResourceResponse().setResourceType(changes.get(i).type())
                        .setResourceName(changes.get(i).name()).setErrorCode(results.get(i).error().code()).setErrorMessage(results.get(i).message()));
            }
            return response;
        }, controlRequests);
    }
}
