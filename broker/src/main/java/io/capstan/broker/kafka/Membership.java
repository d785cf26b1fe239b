package io.capstan.broker.kafka;

import java.util.List;

/** Which brokers clients may talk to, and which of them answers controller and group requests. */
public interface Membership {
    record Node(int id, String host, int port, String rack) {}

    List<Node> brokers();

    /** The broker admin clients send controller requests (CreateTopics, DeleteTopics) to. */
    Node controller();

    /** The broker coordinating a consumer group, or null while there is none (COORDINATOR_NOT_AVAILABLE, retriable). */
    Node groupCoordinator(String group);

    /** A broker on its own: it is everything. */
    static Membership single(BrokerIdentity identity) {
        return new Membership() {
            private Node self() {
                return new Node(identity.nodeId(), identity.host(), identity.port(), null);
            }

            @Override
            public List<Node> brokers() { return List.of(self()); }

            @Override
            public Node controller() { return self(); }

            @Override
            public Node groupCoordinator(String group) { return self(); }
        };
    }
}
