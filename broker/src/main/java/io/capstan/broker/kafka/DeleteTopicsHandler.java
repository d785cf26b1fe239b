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
 * drops it when its view shows the topic gone. A deletion is answered once the asked broker's own view no longer has
 * the topic (within the request's timeout), as a creation is answered once it has it: a client asking this broker next
 * does not find it.
 */
public final class DeleteTopicsHandler implements ApiHandler {
    private final ClusterTopics cluster;
    private final Deleted deleted;
    private final java.util.concurrent.Executor controlRequests;

    /** Waits (at most the given time) until this broker's view no longer has the topic, and has acted on that. */
    public interface Deleted {
        void await(String topic, long timeoutMs);
    }

    /** {@code controlRequests}: where the store writes and the wait run, off the event loop. */
    public DeleteTopicsHandler(ClusterTopics cluster, Deleted deleted, java.util.concurrent.Executor controlRequests) {
        this.cluster = cluster;
        this.deleted = deleted;
        this.controlRequests = controlRequests;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        return CompletableFuture.supplyAsync(() -> deleteAll(context, (DeleteTopicsRequestData) message), controlRequests);
    }

    private ApiMessage deleteAll(RequestContext context, DeleteTopicsRequestData request) {
        long deadline = System.currentTimeMillis() + Math.max(0, request.timeoutMs());
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
            delete(target, result, Math.max(0, deadline - System.currentTimeMillis()));
        }
        return response;
    }

    private void delete(DeleteTopicsRequestData.DeleteTopicState target, DeletableTopicResult result, long waitMs) {
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
            deleted.await(name, waitMs);
        } catch (ConflictException | RuntimeException e) {
            result.setErrorCode(Errors.UNKNOWN_SERVER_ERROR.code()).setErrorMessage("the cluster metadata store refused the deletion: "
                    + e.getMessage() + "; retry");
        }
    }
}
