package io.capstan.broker.group;

import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;

/**
 * The topics a consumer group's members subscribe to, read from their subscriptions for the group's chosen protocol
 * (Kafka's consumer protocol). OffsetDelete keeps the offsets of these topics, as Kafka does.
 */
public final class SubscribedTopics {
    private SubscribedTopics() {}

    /** The union of the members' topics; empty for a group without members; null when it cannot be told (then treat every topic as subscribed). */
    public static Set<String> of(GroupView group) {
        if (group.members().isEmpty()) {
            return Set.of();
        }
        if (!"consumer".equals(group.protocolType()) || group.protocolName().isEmpty()) {
            return null;
        }
        Set<String> topics = new HashSet<>();
        for (GroupView.MemberView m : group.members()) {
            try {
                topics.addAll(ConsumerProtocol.deserializeSubscription(ByteBuffer.wrap(m.metadata())).topics());
            } catch (RuntimeException unreadable) {
                return null;
            }
        }
        return topics;
    }
}
