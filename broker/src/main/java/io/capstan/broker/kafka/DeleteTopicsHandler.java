package io.capstan.broker.kafka;

import io.capstan.cluster.topics.ClusterTopics;
import io.capstan.cluster.metadata.ConflictException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.DeleteTopicsResponseData.DeletableTopicResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.acl.AclOperation;

/**
 * DeleteTopics by name (all versions) or id (v6+): the topic leaves the metadata store, and every broker holding a copy
 * drops it when its view shows the topic gone.
 */
public final class DeleteTopicsHandler implements ApiHandler {
    private final ClusterTopics cluster;
    private final Runnable deleted;

    public DeleteTopicsHandler(ClusterTopics cluster, Runnable deleted) {
        this.cluster = cluster;
        this.deleted = deleted;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        DeleteTopicsRequestData request = (DeleteTopicsRequestData) message;
        List<DeleteTopicsRequestData.DeleteTopicState> targets = new ArrayList<>(request.topics());
        request.topicNames().forEach(n -> targets.add(new DeleteTopicsRequestData.DeleteTopicState().setName(n).setTopicId(Uuid.ZERO_UUID)));
        DeleteTopicsResponseData response = new DeleteTopicsResponseData();
        for (DeleteTopicsRequestData.DeleteTopicState target : targets) {
            DeletableTopicResult result = new DeletableTopicResult().setName(target.name()).setTopicId(target.topicId());
            response.responses().add(result);
            String name = target.name() != null ? target.name() : cluster.nameOf(target.topicId().toString()).orElse(null);
            if (name != null && !context.allowedOnTopic(AclOperation.DELETE, name)) {
                result.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code())
                        .setErrorMessage(context.principal() + " may not DELETE topic " + name);
                continue;
            }
            delete(target, result);
        }
        return CompletableFuture.completedFuture(response);
    }

    private void delete(DeleteTopicsRequestData.DeleteTopicState target, DeletableTopicResult result) {
        String name = target.name() != null ? target.name() : cluster.nameOf(target.topicId().toString()).orElse(null);
        if (name == null || TopicNames.problem(name) != null || cluster.topic(name).isEmpty()) { // an illegal name names nothing
            Errors error = target.name() != null ? Errors.UNKNOWN_TOPIC_OR_PARTITION : Errors.UNKNOWN_TOPIC_ID;
            result.setErrorCode(error.code()).setErrorMessage("no such topic");
            return;
        }
        result.setName(name).setTopicId(Uuid.fromString(cluster.topic(name).get().topicId()));
        if (TopicNames.internal(name)) {
            result.setErrorCode(Errors.INVALID_TOPIC_EXCEPTION.code()).setErrorMessage("internal topics cannot be deleted");
            return;
        }
        try {
            if (!cluster.delete(name)) {
                result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()).setErrorMessage("no such topic");
            }
            deleted.run();
        } catch (ConflictException | RuntimeException e) {
            result.setErrorCode(Errors.UNKNOWN_SERVER_ERROR.code()).setErrorMessage("the cluster metadata store refused the deletion: "
                    + e.getMessage() + "; retry");
        }
    }
}
