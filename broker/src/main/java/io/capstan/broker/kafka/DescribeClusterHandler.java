package io.capstan.broker.kafka;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.protocol.ApiMessage;

/** DescribeCluster (AdminClient.describeCluster): this broker, also acting as controller. */
public final class DescribeClusterHandler implements ApiHandler {
    private final BrokerIdentity identity;

    public DescribeClusterHandler(BrokerIdentity identity) {
        this.identity = identity;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        DescribeClusterResponseData response = new DescribeClusterResponseData()
                .setClusterId(identity.clusterId())
                .setControllerId(identity.nodeId())
                .setClusterAuthorizedOperations(Integer.MIN_VALUE);
        response.brokers().add(new DescribeClusterResponseData.DescribeClusterBroker()
                .setBrokerId(identity.nodeId()).setHost(identity.host()).setPort(identity.port()));
        return CompletableFuture.completedFuture(response);
    }
}
