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
 * producers choose transaction version 2; and {@code capstan.version}, the cluster version finalized in the metadata
 * store (decision 0028), which {@code kafka-features.sh describe} shows. The epoch grows with either level, so clients
 * notice a raise (they compare epochs, not levels); neither is ever lowered on a running cluster.
 */
public final class ApiVersionsHandler implements ApiHandler {
    static final String TRANSACTION_VERSION = "transaction.version";
    private static final short MAX_TRANSACTION_VERSION = 2;
    private static final short FEATURES_VERSION = 3;

    private final ApiRegistry registry;
    private final java.util.function.IntSupplier transactionVersion;
    private final java.util.function.IntSupplier clusterVersion;

    public ApiVersionsHandler(ApiRegistry registry) {
        this(registry, () -> 1, () -> io.capstan.cluster.version.ClusterVersion.FIRST);
    }

    public ApiVersionsHandler(ApiRegistry registry, java.util.function.IntSupplier transactionVersion, java.util.function.IntSupplier clusterVersion) {
        this.registry = registry;
        this.transactionVersion = transactionVersion;
        this.clusterVersion = clusterVersion;
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
            short cluster = (short) clusterVersion.getAsInt();
            response.supportedFeatures().add(new ApiVersionsResponseData.SupportedFeatureKey().setName(io.capstan.cluster.version.ClusterVersion.FEATURE)
                    .setMinVersion((short) io.capstan.cluster.version.ClusterVersion.FIRST).setMaxVersion((short) io.capstan.cluster.version.ClusterVersion.LATEST));
            response.finalizedFeatures().add(new ApiVersionsResponseData.FinalizedFeatureKey().setName(io.capstan.cluster.version.ClusterVersion.FEATURE)
                    .setMinVersionLevel(cluster).setMaxVersionLevel(cluster));
            response.setFinalizedFeaturesEpoch(cluster * 16L + level);
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
