package io.capstan.broker.kafka;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * In a cluster, one broker coordinates the groups: the leader of the committed-offsets shard. Elsewhere a group
 * request gets NOT_COORDINATOR, which sends the client back to FindCoordinator. The error response is the Kafka
 * client library's own for that request, so every API and version gets the shape its clients expect.
 */
public final class CoordinatorGate implements ApiHandler {
    private final ApiKeys api;
    private final ApiHandler delegate;
    private final BooleanSupplier coordinating;

    public CoordinatorGate(ApiKeys api, ApiHandler delegate, BooleanSupplier coordinating) {
        this.api = api;
        this.delegate = delegate;
        this.coordinating = coordinating;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage request) {
        if (coordinating.getAsBoolean()) {
            return delegate.handle(context, request);
        }
        return CompletableFuture.completedFuture(notCoordinator(api, context.version(), request));
    }

    static ApiMessage notCoordinator(ApiKeys api, short version, ApiMessage request) {
        return ErrorResponses.of(api, version, request, Errors.NOT_COORDINATOR);
    }
}
