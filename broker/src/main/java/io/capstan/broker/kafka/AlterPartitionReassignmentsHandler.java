package io.capstan.broker.kafka;

import io.capstan.cluster.topics.Reassignments;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData.ReassignablePartitionResponse;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData.ReassignableTopicResponse;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.acl.AclOperation;

/**
 * AlterPartitionReassignments: start moving shards to new replicas (null replicas cancel). The new replicas catch up
 * first; the controller then switches the shard to them and the old ones drop their data. A broker alone has nowhere
 * to move shards to.
 */
public final class AlterPartitionReassignmentsHandler implements ApiHandler {
    private final Reassignments reassignments;
    private final Runnable changed;

    public AlterPartitionReassignmentsHandler(Reassignments reassignments, Runnable changed) {
        this.reassignments = reassignments;
        this.changed = changed;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        AlterPartitionReassignmentsRequestData request = (AlterPartitionReassignmentsRequestData) message;
        AlterPartitionReassignmentsResponseData response = new AlterPartitionReassignmentsResponseData()
                .setAllowReplicationFactorChange(request.allowReplicationFactorChange());
        for (AlterPartitionReassignmentsRequestData.ReassignableTopic topic : request.topics()) {
            ReassignableTopicResponse tr = new ReassignableTopicResponse().setName(topic.name());
            response.responses().add(tr);
            for (AlterPartitionReassignmentsRequestData.ReassignablePartition p : topic.partitions()) {
                ReassignablePartitionResponse pr = new ReassignablePartitionResponse().setPartitionIndex(p.partitionIndex());
                tr.partitions().add(pr);
                if (!context.allowedOnCluster(AclOperation.ALTER)) {
                    response.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code()).setErrorMessage("moving replicas needs ALTER on the cluster");
                    pr.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code());
                    continue;
                }
                if (reassignments == null) {
                    pr.setErrorCode(Errors.INVALID_REPLICA_ASSIGNMENT.code())
                            .setErrorMessage("this broker runs alone; start a cluster (capstan cluster up) to move replicas");
                    continue;
                }
                Reassignments.Outcome outcome = reassignments.alter(topic.name(), p.partitionIndex(), p.replicas(),
                        request.allowReplicationFactorChange());
                pr.setErrorCode(error(outcome.result()).code()).setErrorMessage(outcome.message());
            }
        }
        changed.run();
        return CompletableFuture.completedFuture(response);
    }

    /** Kafka's error code for each outcome (KEPT_CHANGING: the retriable code Kafka's controller uses for a busy partition). */
    static Errors error(Reassignments.Result result) {
        return switch (result) {
            case STARTED_OR_CANCELLED -> Errors.NONE;
            case UNKNOWN_SHARD -> Errors.UNKNOWN_TOPIC_OR_PARTITION;
            case NONE_RUNNING -> Errors.NO_REASSIGNMENT_IN_PROGRESS;
            case REPLICATION_FACTOR_CHANGE -> Errors.INVALID_REPLICATION_FACTOR;
            case INVALID_REPLICAS -> Errors.INVALID_REPLICA_ASSIGNMENT;
            case KEPT_CHANGING -> Errors.CONCURRENT_TRANSACTIONS;
        };
    }
}
