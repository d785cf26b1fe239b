package io.capstan.broker.kafka;

import io.capstan.cluster.version.ClusterVersion;
import io.capstan.cluster.version.ClusterVersionChange;
import io.capstan.cluster.version.ClusterVersionStore;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.UpdateFeaturesRequestData;
import org.apache.kafka.common.message.UpdateFeaturesResponseData;
import org.apache.kafka.common.message.UpdateFeaturesResponseData.UpdatableFeatureResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * UpdateFeatures (what {@code kafka-features.sh upgrade} and {@code Admin.updateFeatures} send): finalizes
 * {@value ClusterVersion#FEATURE} by compare-and-set in the metadata store from whichever broker is asked
 * ({@link ClusterVersionChange} decides). {@code transaction.version} is a per-broker setting here and is refused
 * with the setting to change instead. Versions 0-1, whose answer carries a result per feature.
 */
public final class UpdateFeaturesHandler implements ApiHandler {
    private final ClusterVersionStore versions;
    private final Executor controlRequests;

    public UpdateFeaturesHandler(ClusterVersionStore versions, Executor controlRequests) {
        this.versions = versions;
        this.controlRequests = controlRequests;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        UpdateFeaturesRequestData request = (UpdateFeaturesRequestData) message;
        if (!context.allowedOnCluster(AclOperation.ALTER)) {
            UpdateFeaturesResponseData denied = new UpdateFeaturesResponseData().setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code())
                    .setErrorMessage("updating features needs ALTER on the cluster");
            request.featureUpdates().forEach(u -> denied.results().add(new UpdatableFeatureResult().setFeature(u.feature())
                    .setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code())));
            return CompletableFuture.completedFuture(denied);
        }
        return CompletableFuture.supplyAsync(() -> {
            UpdateFeaturesResponseData response = new UpdateFeaturesResponseData().setErrorCode(Errors.NONE.code());
            for (UpdateFeaturesRequestData.FeatureUpdateKey update : request.featureUpdates()) {
                response.results().add(result(update, request.validateOnly()));
            }
            return response;
        }, controlRequests);
    }

    private UpdatableFeatureResult result(UpdateFeaturesRequestData.FeatureUpdateKey update, boolean validateOnly) {
        UpdatableFeatureResult result = new UpdatableFeatureResult().setFeature(update.feature());
        String refused = switch (update.feature()) {
            case ClusterVersion.FEATURE -> versions.finalizeAt(update.maxVersionLevel(), validateOnly) instanceof ClusterVersionChange.Refused r
                    ? r.reason() : null;
            case ApiVersionsHandler.TRANSACTION_VERSION -> "transaction.version is a broker setting in Capstan: set transaction.version in every"
                    + " broker's settings (docs/configuration.md)";
            default -> "unknown feature " + update.feature() + "; this broker finalizes " + ClusterVersion.FEATURE;
        };
        return refused == null ? result.setErrorCode(Errors.NONE.code())
                : result.setErrorCode(Errors.INVALID_UPDATE_VERSION.code()).setErrorMessage(refused);
    }
}
