package io.capstan.broker.kafka;

import io.capstan.cluster.view.ClusterView;
import io.capstan.cluster.controller.FailoverController;
import io.capstan.cluster.metadata.TopicRecord;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.ElectLeadersRequestData;
import org.apache.kafka.common.message.ElectLeadersResponseData;
import org.apache.kafka.common.message.ElectLeadersResponseData.PartitionResult;
import org.apache.kafka.common.message.ElectLeadersResponseData.ReplicaElectionResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.acl.AclOperation;

/**
 * ElectLeaders: preferred-leader election (hand each shard back to its first replica once it is alive and in sync),
 * written to the metadata store by compare-and-set from whichever broker is asked. Unclean election is refused:
 * Capstan never elects a replica that may lack acknowledged records.
 */
public final class ElectLeadersHandler implements ApiHandler {
    private static final byte UNCLEAN = 1;

    private final ClusterView cluster;

    public ElectLeadersHandler(ClusterView cluster) {
        this.cluster = cluster;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        ElectLeadersRequestData request = (ElectLeadersRequestData) message;
        ElectLeadersResponseData response = new ElectLeadersResponseData();
        Map<String, List<Integer>> targets = targets(request);
        boolean authorized = context.allowedOnCluster(AclOperation.ALTER);
        if (!authorized) {
            response.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code());
        }
        Set<Integer> alive = cluster.aliveBrokerIds();
        for (Map.Entry<String, List<Integer>> topic : targets.entrySet()) {
            ReplicaElectionResult tr = new ReplicaElectionResult().setTopic(topic.getKey());
            response.replicaElectionResults().add(tr);
            for (int partition : topic.getValue()) {
                PartitionResult pr = new PartitionResult().setPartitionId(partition);
                tr.partitionResult().add(pr);
                if (!authorized) {
                    pr.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code()).setErrorMessage("electing leaders needs ALTER on the cluster");
                } else if (request.electionType() == UNCLEAN) {
                    pr.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("unclean leader election is not offered by Capstan: "
                            + "it could lose acknowledged records; bring an in-sync replica back instead");
                } else {
                    outcome(pr, FailoverController.electPreferred(cluster.store(), topic.getKey(), partition, alive));
                }
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    private Map<String, List<Integer>> targets(ElectLeadersRequestData request) {
        Map<String, List<Integer>> targets = new LinkedHashMap<>();
        if (request.topicPartitions() != null) {
            request.topicPartitions().forEach(t -> targets.put(t.topic(), new ArrayList<>(new HashSet<>(t.partitions()))));
            return targets;
        }
        for (TopicRecord t : cluster.topics().values()) {
            targets.put(t.name(), range(t.partitions()));
        }
        return targets;
    }

    private static List<Integer> range(int n) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(i);
        }
        return out;
    }

    private static void outcome(PartitionResult pr, FailoverController.Preferred outcome) {
        switch (outcome) {
            case ELECTED -> pr.setErrorCode(Errors.NONE.code());
            case NOT_NEEDED -> pr.setErrorCode(Errors.ELECTION_NOT_NEEDED.code()).setErrorMessage("the preferred replica already leads");
            case NOT_AVAILABLE -> pr.setErrorCode(Errors.PREFERRED_LEADER_NOT_AVAILABLE.code())
                    .setErrorMessage("the preferred replica is not alive and in sync; retry once it has caught up");
            case UNKNOWN_SHARD -> pr.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()).setErrorMessage("no such shard");
        }
    }
}
