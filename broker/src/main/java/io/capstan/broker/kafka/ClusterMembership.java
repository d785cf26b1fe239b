package io.capstan.broker.kafka;

import io.capstan.cluster.metadata.BrokerRegistration;
import java.util.Comparator;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.view.ClusterView;
import java.util.List;
import org.apache.kafka.common.TopicPartition;

/**
 * Membership from the cluster metadata: the brokers whose leases hold. Controller requests may go to any broker (each
 * writes the metadata store by compare-and-set), so the lowest live id is named. Groups are coordinated by the leader
 * of the replicated committed-offsets shard, so coordination and offsets move together on failover; transactions by
 * the leader of the transaction-log shard, likewise.
 */
public final class ClusterMembership implements Membership {
    private final ClusterView view;
    private final BrokerIdentity self;
    private final TopicPartition offsetsShard;
    private final Runnable createOffsetsShard;
    private final TopicPartition transactionsShard;
    private final Runnable createTransactionsShard;

    /**
     * {@code offsetsShard}'s leader coordinates the groups; {@code createOffsetsShard} is called when the cluster
     * does not have it yet (the first FindCoordinator creates it, once the brokers are up).
     */
    public ClusterMembership(ClusterView view, BrokerIdentity self, TopicPartition offsetsShard, Runnable createOffsetsShard,
                             TopicPartition transactionsShard, Runnable createTransactionsShard) {
        this.view = view;
        this.self = self;
        this.offsetsShard = offsetsShard;
        this.createOffsetsShard = createOffsetsShard;
        this.transactionsShard = transactionsShard;
        this.createTransactionsShard = createTransactionsShard;
    }

    @Override
    public List<Node> brokers() {
        List<Node> alive = view.aliveBrokers().stream().sorted(Comparator.comparingInt(BrokerRegistration::id))
                .map(ClusterMembership::node).toList();
        return alive.isEmpty() ? List.of(selfNode()) : alive;
    }

    private Node selfNode() {
        return new Node(self.nodeId(), self.host(), self.port(), null, self.endpoints());
    }

    private static Node node(BrokerRegistration b) {
        return new Node(b.id(), b.host(), b.port(), b.rack() == null || b.rack().isEmpty() ? null : b.rack(),
                b.endpoints() == null ? java.util.Map.of() : b.endpoints());
    }

    @Override
    public Node controller() {
        return brokers().get(0);
    }

    @Override
    public Node groupCoordinator(String group) {
        return leaderOf(offsetsShard, createOffsetsShard);
    }

    @Override
    public Node transactionCoordinator(String transactionalId) {
        return leaderOf(transactionsShard, createTransactionsShard);
    }

    private Node leaderOf(TopicPartition coordinatorShard, Runnable create) {
        ShardState shard = view.state(coordinatorShard.topic(), coordinatorShard.partition());
        if (shard == null) {
            create.run();
            return null;
        }
        BrokerRegistration leader = shard.leader() < 0 ? null : view.broker(shard.leader());
        return leader == null || !view.alive(leader.id()) ? null
                : node(leader);
    }
}
