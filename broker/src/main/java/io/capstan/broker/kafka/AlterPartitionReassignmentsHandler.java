package io.capstan.broker.kafka;

import io.capstan.broker.replica.ClusterReassignments;
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
    private final ClusterReassignments reassignments;
    private final Runnable changed;

    public AlterPartitionReassignmentsHandler(ClusterReassignments reassignments, Runnable changed) {
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
                ClusterReassignments.Outcome outcome = reassignments.alter(topic.name(), p.partitionIndex(), p.replicas(),
                        request.allowReplicationFactorChange());
                pr.setErrorCode(outcome.error().code()).setErrorMessage(outcome.message());
            }
        }
        changed.run();
        return CompletableFuture.completedFuture(response);
    }
}
