package io.capstan.broker.kafka;

import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.acl.AclOperation;
import io.capstan.cluster.topics.Reassignments;
import io.capstan.cluster.metadata.ShardState;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.ListPartitionReassignmentsRequestData;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData.OngoingPartitionReassignment;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData.OngoingTopicReassignment;
import org.apache.kafka.common.protocol.ApiMessage;

/** ListPartitionReassignments: the running reassignments, all or of the shards named, with adding and removing replicas. */
public final class ListPartitionReassignmentsHandler implements ApiHandler {
    private final Reassignments reassignments;

    public ListPartitionReassignmentsHandler(Reassignments reassignments) {
        this.reassignments = reassignments;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        ListPartitionReassignmentsRequestData request = (ListPartitionReassignmentsRequestData) message;
        ListPartitionReassignmentsResponseData response = new ListPartitionReassignmentsResponseData();
        if (!context.allowedOnCluster(AclOperation.DESCRIBE)) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code())
                    .setErrorMessage("listing reassignments needs DESCRIBE on the cluster"));
        }
        if (reassignments == null) {
            return CompletableFuture.completedFuture(response);
        }
        Map<String, OngoingTopicReassignment> topics = new LinkedHashMap<>();
        for (ShardState s : reassignments.running()) {
            if (request.topics() != null && request.topics().stream()
                    .noneMatch(t -> t.name().equals(s.topic()) && t.partitionIndexes().contains(s.partition()))) {
                continue;
            }
            topics.computeIfAbsent(s.topic(), name -> new OngoingTopicReassignment().setName(name)).partitions()
                    .add(new OngoingPartitionReassignment().setPartitionIndex(s.partition()).setReplicas(s.replicas())
                            .setAddingReplicas(s.addingReplicas()).setRemovingReplicas(s.removingReplicas()));
        }
        response.topics().addAll(topics.values());
        return CompletableFuture.completedFuture(response);
    }
}
