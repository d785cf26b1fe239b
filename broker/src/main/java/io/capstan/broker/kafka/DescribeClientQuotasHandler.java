package io.capstan.broker.kafka;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeClientQuotas: Capstan has no client quotas yet, so there are none to describe. Answered (rather than
 * refused) because kafka-configs asks for user quotas whenever it describes a user's SCRAM credentials. Needs
 * DESCRIBE_CONFIGS on the cluster, as in Kafka.
 */
public final class DescribeClientQuotasHandler implements ApiHandler {
    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage request) {
        DescribeClientQuotasResponseData response = new DescribeClientQuotasResponseData().setEntries(List.of());
        if (!context.allowedOnCluster(AclOperation.DESCRIBE_CONFIGS)) {
            response.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code()).setErrorMessage("describing quotas needs DESCRIBE_CONFIGS on the cluster");
        }
        return CompletableFuture.completedFuture(response);
    }
}
