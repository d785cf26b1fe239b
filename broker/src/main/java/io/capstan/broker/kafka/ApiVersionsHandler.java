package io.capstan.broker.kafka;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersionCollection;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** ApiVersions: exactly the APIs and version ranges in the registry, nothing more. */
public final class ApiVersionsHandler implements ApiHandler {
    private final ApiRegistry registry;

    public ApiVersionsHandler(ApiRegistry registry) {
        this.registry = registry;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage request) {
        return CompletableFuture.completedFuture(response(registry).setErrorCode(Errors.NONE.code()));
    }

    public static ApiVersionsResponseData unsupportedVersion(ApiRegistry registry) {
        return response(registry).setErrorCode(Errors.UNSUPPORTED_VERSION.code());
    }

    private static ApiVersionsResponseData response(ApiRegistry registry) {
        ApiVersionCollection keys = new ApiVersionCollection();
        registry.all().forEach(api -> keys.add(new ApiVersion()
                .setApiKey(api.key().id)
                .setMinVersion(api.minVersion())
                .setMaxVersion(api.maxVersion())));
        return new ApiVersionsResponseData().setApiKeys(keys).setFinalizedFeaturesEpoch(-1);
    }
}
