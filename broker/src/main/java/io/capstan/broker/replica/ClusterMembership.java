package io.capstan.broker.replica;

import io.capstan.broker.kafka.BrokerIdentity;
import io.capstan.broker.kafka.Membership;
import io.capstan.cluster.metadata.BrokerRegistration;
import java.util.Comparator;
import java.util.List;

/**
 * Membership from the cluster metadata: the brokers whose leases hold. Controller requests may go to any broker (each
 * writes the metadata store by compare-and-set), so the lowest live id is named. Groups are coordinated by the lowest
 * live broker too: committed offsets are not replicated yet, so a coordinator change starts groups from their reset
 * policy (docs/replication.md).
 */
public final class ClusterMembership implements Membership {
    private final ClusterView view;
    private final BrokerIdentity self;

    public ClusterMembership(ClusterView view, BrokerIdentity self) {
        this.view = view;
        this.self = self;
    }

    @Override
    public List<Node> brokers() {
        List<Node> alive = view.aliveBrokers().stream().sorted(Comparator.comparingInt(BrokerRegistration::id))
                .map(b -> new Node(b.id(), b.host(), b.port(), b.rack() == null || b.rack().isEmpty() ? null : b.rack())).toList();
        return alive.isEmpty() ? List.of(selfNode()) : alive;
    }

    private Node selfNode() {
        return new Node(self.nodeId(), self.host(), self.port(), null);
    }

    @Override
    public Node controller() {
        return brokers().get(0);
    }

    @Override
    public Node groupCoordinator(String group) {
        return brokers().get(0);
    }
}
