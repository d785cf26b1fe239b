package io.capstan.broker.kafka;

import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.resource.ResourceType;
import io.capstan.broker.security.Authorizer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.protocol.ApiMessage;

/** DescribeCluster (AdminClient.describeCluster): this broker, also acting as controller. */
public final class DescribeClusterHandler implements ApiHandler {
    private final BrokerIdentity identity;

    private final Membership membership;

    public DescribeClusterHandler(BrokerIdentity identity, Membership membership) {
        this.identity = identity;
        this.membership = membership;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        DescribeClusterResponseData response = new DescribeClusterResponseData()
                .setClusterId(identity.clusterId())
                .setControllerId(membership.controller().id())
                .setClusterAuthorizedOperations(((DescribeClusterRequestData) message).includeClusterAuthorizedOperations()
                        ? AuthorizedOperations.of(context, ResourceType.CLUSTER, Authorizer.CLUSTER)
                        : AuthorizedOperations.NOT_REQUESTED);
        for (Membership.Node broker : membership.brokers()) {
            Membership.Node node = broker.at(context.listener());
            response.brokers().add(new DescribeClusterResponseData.DescribeClusterBroker()
                    .setBrokerId(node.id()).setHost(node.host()).setPort(node.port()).setRack(node.rack()));
        }
        return CompletableFuture.completedFuture(response);
    }
}
