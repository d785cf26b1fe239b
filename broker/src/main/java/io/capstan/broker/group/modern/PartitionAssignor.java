package io.capstan.broker.group.modern;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.Uuid;

/**
 * A server-side assignor (KIP-848): from the members' subscriptions, the topics' partition counts and the previous
 * target, the next target assignment of every member. Pure and deterministic: the same input gives the same answer,
 * so a coordinator that takes over computes what its predecessor would have.
 */
public interface PartitionAssignor {

    /** A member as the assignor sees it: its id and the ids of the topics it subscribes to that exist. */
    record Member(String memberId, String instanceId, String rackId, Set<Uuid> topics) {}

    /** A subscribed topic that exists. */
    record Topic(Uuid id, String name, int partitions) {}

    /** The name members ask for in {@code group.remote.assignor} (Kafka's names). */
    String name();

    /** Every member gets an entry, possibly empty; no partition is given to two members. */
    Map<String, Assignment> assign(List<Member> members, Map<Uuid, Topic> topics, Map<String, Assignment> previous);
}
