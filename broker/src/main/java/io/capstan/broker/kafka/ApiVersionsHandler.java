package io.capstan.broker.kafka;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersionCollection;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * ApiVersions: exactly the APIs and version ranges in the registry, nothing more, and (v3+) the features: {@code
 * transaction.version} supported 0-2 and finalized at the broker's {@code transaction.version}, which is how Kafka 4
 * producers choose transaction version 2. The finalized level doubles as the features epoch, so producers notice a
 * raise from 1 to 2 (they compare epochs, not levels).
 */
public final class ApiVersionsHandler implements ApiHandler {
    static final String TRANSACTION_VERSION = "transaction.version";
    private static final short MAX_TRANSACTION_VERSION = 2;
    private static final short FEATURES_VERSION = 3;

    private final ApiRegistry registry;
    private final java.util.function.IntSupplier transactionVersion;

    public ApiVersionsHandler(ApiRegistry registry) {
        this(registry, () -> 1);
    }

    public ApiVersionsHandler(ApiRegistry registry, java.util.function.IntSupplier transactionVersion) {
        this.registry = registry;
        this.transactionVersion = transactionVersion;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage request) {
        ApiVersionsResponseData response = response(registry).setErrorCode(Errors.NONE.code());
        if (context.version() >= FEATURES_VERSION) {
            short level = (short) transactionVersion.getAsInt();
            response.supportedFeatures().add(new ApiVersionsResponseData.SupportedFeatureKey().setName(TRANSACTION_VERSION)
                    .setMinVersion((short) 0).setMaxVersion(MAX_TRANSACTION_VERSION));
            response.finalizedFeatures().add(new ApiVersionsResponseData.FinalizedFeatureKey().setName(TRANSACTION_VERSION)
                    .setMinVersionLevel(level).setMaxVersionLevel(level));
            response.setFinalizedFeaturesEpoch(level);
        }
        return CompletableFuture.completedFuture(response);
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
