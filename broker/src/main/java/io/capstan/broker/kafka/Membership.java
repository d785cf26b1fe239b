package io.capstan.broker.kafka;

import java.util.List;
import java.util.Map;

/** Which brokers clients may talk to, and which of them answers controller and group requests. */
public interface Membership {
    /**
     * A broker: its inter-broker address, rack, and the address of each of its listeners ("host:port" by name; empty
     * for a broker registered before listeners were advertised).
     */
    record Node(int id, String host, int port, String rack, Map<String, String> endpoints) {
        /** This broker as a client of the given listener must reach it. */
        public Node at(String listener) {
            String endpoint = endpoints == null ? null : endpoints.get(listener);
            if (endpoint == null) {
                return this;
            }
            int colon = endpoint.lastIndexOf(':');
            return new Node(id, endpoint.substring(0, colon), Integer.parseInt(endpoint.substring(colon + 1)), rack, endpoints);
        }
    }

    List<Node> brokers();

    /** The broker admin clients send controller requests (CreateTopics, DeleteTopics) to. */
    Node controller();

    /** The broker coordinating a consumer group, or null while there is none (COORDINATOR_NOT_AVAILABLE, retriable). */
    Node groupCoordinator(String group);

    /** The broker coordinating a transactional id, or null while there is none (COORDINATOR_NOT_AVAILABLE, retriable). */
    Node transactionCoordinator(String transactionalId);
}
